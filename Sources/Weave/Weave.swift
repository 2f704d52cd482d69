// Weave: see design.md section 2.
