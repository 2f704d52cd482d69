// Augment: filled in below.
