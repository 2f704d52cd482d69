// Intentionally empty. This target exists for its dependencies (see Package.swift): building it
// compiles, in one SwiftPM build that runs them side by side, every library the weaver's
// generated stage package links (NoisyStudent, Charts, WeaveRuntime). Nothing imports it.
