import Testing
import Charts

@Test func chartsLinks() { #expect(Bool(true)) }
