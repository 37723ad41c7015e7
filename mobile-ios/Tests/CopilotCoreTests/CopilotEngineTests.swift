// NOT BUILT HERE (no Swift toolchain on the project's machines). The same cases as the Kotlin
// layer's CopilotEngineTest, which runs on every CI run: run these with `swift test` on a Mac
// after ./build-xcframework.sh and models/fetch.
import CopilotCore
import XCTest

final class CopilotEngineTests: XCTestCase {
    private static let zhFinalPrice = "这个价格真的没法再降了"
    private static let enTooExpensive = "Honestly, that's way too expensive for us."
    private static let unlisted = "Could you tell me a bit about your delivery schedule?"

    /// The checkout: the first folder above this file that holds `models/manifest.toml`.
    private static let repoRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(
            atPath: dir.appendingPathComponent("models/manifest.toml").path)
        {
            precondition(dir.path != "/", "no models/manifest.toml above \(#filePath)")
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }()

    private var data: URL!

    override func setUpWithError() throws {
        data = FileManager.default.temporaryDirectory
            .appendingPathComponent("copilot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: data)
    }

    /// The data folder of the core's own classification tests, which keeps the lexicon's
    /// example embeddings: the first use of the encoder in a data folder computes them all.
    private static let encoderData = repoRoot.appendingPathComponent(
        "target/tmp/classify-test-data")

    private func engine(
        models: URL = repoRoot.appendingPathComponent("models"), data: URL? = nil
    ) throws -> CopilotEngine {
        try CopilotEngine(models: models, data: data ?? self.data)
    }

    private func fixture(_ path: String) -> URL {
        Self.repoRoot.appendingPathComponent("fixtures/\(path)")
    }

    /// The core's error that `body` throws; fails the test when it throws none.
    private func thrown(_ body: () async throws -> Void) async -> CopilotError? {
        do {
            try await body()
            XCTFail("expected a CopilotError, nothing was thrown")
        } catch let error as CopilotError {
            return error
        } catch {
            XCTFail("expected a CopilotError, got \(error)")
        }
        return nil
    }

    func testACustomerCardReadsOfflineAfterImportingTheDistributorSnapshot() async throws {
        let engine = try engine()
        let summary = try await engine.importSnapshot(fixture("customers/distributor.json"))
        XCTAssertEqual(summary.customers, 12)
        XCTAssertEqual(summary.purchases, 200)

        let card = try await engine.customerCard("C-00003", asOf: "2026-12-01")
        XCTAssertEqual(card.customer.id, "C-00003")
        XCTAssertEqual(card.lastPurchaseDate, "2026-09-15")
        XCTAssertEqual(card.purchaseCycles.count, 3)
        let last = try XCTUnwrap(card.purchaseCycles.last)
        XCTAssertEqual(last.fromDate, "2026-07-15")
        XCTAssertEqual(last.toDate, "2026-09-15")
        XCTAssertEqual(last.amount, 237741.08, accuracy: 0.005)
        XCTAssertEqual(last.currency, "CNY")

        let byName = try await engine.customerCard("苏州市第1人民医院", asOf: "2026-12-01")
        XCTAssertEqual(byName, card)
        let january = try await engine.customerCard("C-00003", asOf: "2026-01-15")
        XCTAssertEqual(january.competitorContacts.map(\.competitor), ["康泰医疗"])
    }

    func testChineseAndEnglishObjectionsAreClassifiedByTheRealLexiconAndEncoder() async throws {
        let engine = try engine(data: Self.encoderData)
        let zh = try await engine.classify(Self.zhFinalPrice, speaker: .customer)
        XCTAssertEqual(zh.intent, "objection")
        XCTAssertEqual(zh.objection, "price_final")
        XCTAssertEqual(zh.speaker, .customer)
        let version = await engine.lexiconVersion()
        XCTAssertEqual(zh.lexiconVersion, version)

        let en = try await engine.classify(Self.enTooExpensive, speaker: .customer)
        XCTAssertEqual(en.intent, "objection")
        XCTAssertEqual(en.objection, "price_too_high")

        // No lexicon phrase decides this one: the e5 encoder must load and answer.
        let unlisted = try await engine.classify(Self.unlisted)
        XCTAssertTrue([.example, .prototype].contains(unlisted.evidence.source))
        XCTAssertTrue((0...1).contains(unlisted.confidence))
    }

    func testCallsFromManyTasksAtOnceAgree() async throws {
        let engine = try engine()
        let objections = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for i in 1...16 {
                let text = i % 2 == 0 ? Self.zhFinalPrice : Self.enTooExpensive
                group.addTask { (i, try await engine.classify(text).objection) }
            }
            return try await group.reduce(into: [Int: String?]()) { $0[$1.0] = $1.1 }
        }
        for i in 1...16 {
            XCTAssertEqual(objections[i], i % 2 == 0 ? "price_final" : "price_too_high")
        }
    }

    func testABadLexiconIsInvalidInputNamingItsLine() async throws {
        let engine = try engine()
        let before = await engine.lexiconVersion()
        let bad = data.appendingPathComponent("lexicon.toml")
        try "format = 1\nversion = \n".write(to: bad, atomically: true, encoding: .utf8)
        let error = await thrown { _ = try await engine.loadLexicon(bad) }
        guard case .InvalidInput(let reason) = error else {
            return XCTFail("not invalid input: \(String(describing: error))")
        }
        XCTAssertTrue(reason.contains("line 2"), reason)
        let after = await engine.lexiconVersion()
        XCTAssertEqual(after, before)
    }

    func testAnUnknownCustomerIsNotFound() async throws {
        let engine = try engine()
        _ = try await engine.importSnapshot(fixture("customers/distributor.json"))
        let error = await thrown { _ = try await engine.customerCard("C-99999") }
        guard case .NotFound(let reason) = error else {
            return XCTFail("not NotFound: \(String(describing: error))")
        }
        XCTAssertEqual(reason, "no customer has that id or name")
    }

    func testAMissingModelsFolderIsAModelErrorNamingTheFile() async throws {
        let nowhere = data.appendingPathComponent("no-models-here")
        let engine = try engine(models: nowhere)
        // The lexicon still answers without any model ...
        let lexiconHit = try await engine.classify(Self.zhFinalPrice)
        XCTAssertEqual(lexiconHit.objection, "price_final")
        // ... and whatever needs a model says which one is missing, and where.
        let error = await thrown { _ = try await engine.classify(Self.unlisted) }
        guard case .Model(let reason) = error else {
            return XCTFail("not a model error: \(String(describing: error))")
        }
        XCTAssertTrue(reason.contains(nowhere.path), reason)
    }

    func testAFreshOutboxIsEmptyAndUnknownIdsAcknowledgeNothing() async throws {
        let engine = try engine()
        let pending = try await engine.outboxPending(limit: 10)
        XCTAssertTrue(pending.isEmpty)
        let acknowledged = try await engine.acknowledge(["no-such-id"])
        XCTAssertEqual(acknowledged, 0)
        let moved = try await engine.recoverDatabase()
        XCTAssertNil(moved)
    }

    func testEventsArriveInOrderAcrossThreads() async {
        let channel = EventChannel<Int>()
        DispatchQueue.global().async {
            for i in 0..<100 { channel.send(i) }
            channel.finish()
        }
        var received: [Int] = []
        for await event in channel.events { received.append(event) }
        XCTAssertEqual(received, Array(0..<100))
    }
}
