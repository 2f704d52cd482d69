import Testing
import Weave

@Test func weaveLinks() { #expect(Bool(true)) }
