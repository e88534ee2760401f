import ApplicationStore
import Testing

/// Enum names match in ASCII case only: Unicode case mapping would let `ſenior` (long s) through as
/// `SENIOR` and `pendıng` (dotless i) as `PENDING`.
@Suite struct ASCIICaseTests {
    @Test func onlyASCIILettersChangeCase() {
        #expect(SeniorityLevel(caseInsensitive: "senior") == .senior)
        #expect(SeniorityLevel(caseInsensitive: " Lead ") == .lead)
        #expect(SeniorityLevel(caseInsensitive: "\u{17F}enior") == nil)
        #expect(SeniorityLevel(caseInsensitive: "m\u{131}d") == nil)
        #expect(ApplicationStatus(caseInsensitive: "pending") == .pending)
        #expect(ApplicationStatus(caseInsensitive: "pend\u{131}ng") == nil)
        #expect(ApplicationStatus(caseInsensitive: "COMPLETED") == .completed)
        #expect(ASCIICase.uppercased("aZé\u{17F}ı") == "AZé\u{17F}ı")
    }
}
