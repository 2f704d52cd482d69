import Testing
import Augment

@Test func augmentLinks() { #expect(Bool(true)) }
