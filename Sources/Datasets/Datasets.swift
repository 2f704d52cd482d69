// Datasets: see design.md section 2.
