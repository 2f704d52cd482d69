import Testing
import NoisyStudent

@Test func noisystudentLinks() { #expect(Bool(true)) }
