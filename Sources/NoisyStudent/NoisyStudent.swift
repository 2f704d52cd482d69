// NoisyStudent: see design.md section 2.
