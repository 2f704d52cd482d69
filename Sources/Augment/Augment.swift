// Augment: see design.md section 2.
