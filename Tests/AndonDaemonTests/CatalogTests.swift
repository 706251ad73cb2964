import AndonDaemon
import AndonProtocol
import Foundation
import Testing

/// Every MESSAGE_ID andond writes is explained in the journal catalog and listed in docs/journal.md.
@Suite struct CatalogTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everyMessageIDHasACatalogSectionAndADocumentedRow() throws {
        let catalog = try String(
            contentsOf: Self.root.appendingPathComponent("systemd/andond.catalog"),
            encoding: .utf8
        )
        let docs = try String(contentsOf: Self.root.appendingPathComponent("docs/journal.md"), encoding: .utf8)
        let sections = catalog.split(separator: "\n").filter { $0.hasPrefix("-- ") }.map { String($0.dropFirst(3)) }
        #expect(Set(MessageID.all).count == MessageID.all.count, "MESSAGE_IDs are unique")
        #expect(Set(sections) == Set(MessageID.all), "catalog sections and MESSAGE_IDs differ")
        #expect(sections.count == Set(sections).count, "a catalog section appears twice")
        for id in MessageID.all {
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit) && id == id.lowercased(), "\(id) is no id128")
            #expect(docs.contains("| \(id) |"), "docs/journal.md has no row for \(id)")
        }
    }

    @Test func everyCatalogSectionHasASubjectAndText() throws {
        let catalog = try String(
            contentsOf: Self.root.appendingPathComponent("systemd/andond.catalog"),
            encoding: .utf8
        )
        let sections = catalog.components(separatedBy: "\n-- ").dropFirst()
        #expect(sections.count == MessageID.all.count)
        for section in sections {
            let lines = section.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.contains { $0.hasPrefix("Subject: ") }, "no Subject in \(lines.first ?? "")")
            #expect(lines.contains { $0.hasPrefix("Defined-By: andond") })
            // Header, blank line, then the explanation.
            let body = lines.drop { !$0.isEmpty }.dropFirst()
            #expect(body.joined().count > 80, "the text of \(lines.first ?? "") is too short to help")
        }
    }
}
