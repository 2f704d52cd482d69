import Testing
import Datasets

@Test func datasetsLinks() { #expect(Bool(true)) }
