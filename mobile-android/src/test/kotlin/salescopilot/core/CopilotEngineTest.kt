package salescopilot.core

import java.io.File
import java.nio.file.Path
import java.time.LocalDate
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/**
 * The Kotlin layer over the real core: `libcopilot_core.so` of the host build through JNA, the
 * real pinned models in the checkout's `models/` (run `models/fetch` first), and a fresh data
 * folder for each test.
 */
class CopilotEngineTest {
    @TempDir
    lateinit var data: Path

    private val opened = mutableListOf<CopilotEngine>()

    @AfterEach
    fun closeEngines() = opened.forEach { it.close() }

    @Test
    fun `a customer card reads offline after importing the distributor snapshot`() = test {
        val engine = engine()
        val summary = engine.importSnapshot(fixture("customers/distributor.json"))
        assertEquals(12u, summary.customers)
        assertEquals(200u, summary.purchases)

        val card = engine.customerCard("C-00003", LocalDate.of(2026, 12, 1))
        assertEquals("C-00003", card.customer.id)
        assertEquals("2026-09-15", card.lastPurchaseDate)
        assertEquals(3, card.purchaseCycles.size)
        val last = card.purchaseCycles.last()
        assertEquals("2026-07-15" to "2026-09-15", last.fromDate to last.toDate)
        assertEquals(237741.08, last.amount, 0.005)
        assertEquals("CNY", last.currency)

        val byName = engine.customerCard("苏州市第1人民医院", LocalDate.of(2026, 12, 1))
        assertEquals(card, byName)
        val january = engine.customerCard("C-00003", LocalDate.of(2026, 1, 15))
        assertEquals(listOf("康泰医疗"), january.competitorContacts.map { it.competitor })
    }

    @Test
    fun `Chinese and English objections are classified by the real lexicon and encoder`() = test {
        val engine = engine(data = encoderData)
        val zh = engine.classify(ZH_FINAL_PRICE, Speaker.CUSTOMER)
        assertEquals("objection", zh.intent)
        assertEquals("price_final", zh.objection)
        assertEquals(Speaker.CUSTOMER, zh.speaker)
        assertEquals(engine.lexiconVersion(), zh.lexiconVersion)

        val en = engine.classify(EN_TOO_EXPENSIVE, Speaker.CUSTOMER)
        assertEquals("objection", en.intent)
        assertEquals("price_too_high", en.objection)

        // No lexicon phrase decides this one: the e5 encoder must load through JNA and answer.
        val unlisted = engine.classify(UNLISTED)
        assertTrue(unlisted.evidence.source in ENCODER_SOURCES, "${unlisted.evidence}")
        assertTrue(unlisted.confidence in 0f..1f)
    }

    @Test
    fun `calls from many coroutines at once agree`() = test {
        val engine = engine()
        val answers = (1..16).map { i ->
            async { engine.classify(if (i % 2 == 0) ZH_FINAL_PRICE else EN_TOO_EXPENSIVE) }
        }
        val expected = (1..16).map { i -> if (i % 2 == 0) "price_final" else "price_too_high" }
        assertEquals(expected, answers.awaitAll().map { it.objection })
    }

    @Test
    fun `a bad lexicon is an InvalidInputException naming its line`() = test {
        val engine = engine()
        val before = engine.lexiconVersion()
        val bad = File(data.toFile(), "lexicon.toml")
        bad.writeText("format = 1\nversion = \n")
        val error = thrown<InvalidInputException> { engine.loadLexicon(bad) }
        assertTrue(error.message!!.contains("line 2"), error.message)
        assertEquals(before, engine.lexiconVersion())
    }

    @Test
    fun `an unknown customer is a NotFoundException and a bad snapshot invalid input`() = test {
        val engine = engine()
        engine.importSnapshot(fixture("customers/distributor.json"))
        val missing = thrown<NotFoundException> { engine.customerCard("C-99999") }
        // The sentence names no customer data, so it can be logged.
        assertEquals("no customer has that id or name", missing.message)
        thrown<InvalidInputException> {
            engine.importSnapshotJson("{\"version\": 1, \"customers\": [{}]}")
        }
    }

    @Test
    fun `a missing models folder is a ModelException naming the file`() = test {
        val nowhere = File(data.toFile(), "no-models-here")
        val engine = engine(nowhere)
        // The lexicon still answers without any model ...
        assertEquals("price_final", engine.classify(ZH_FINAL_PRICE).objection)
        // ... and whatever needs a model says which one is missing, and where.
        val error = thrown<ModelException> { engine.classify(UNLISTED) }
        assertTrue(error.message!!.contains(nowhere.path), error.message)
        thrown<ModelException> { engine.transcribeFile(fixture("audio/jfk.wav")) }
    }

    @Test
    fun `a fresh outbox is empty and unknown ids acknowledge nothing`() = test {
        val engine = engine()
        assertEquals(emptyList<OutboxRecord>(), engine.outboxPending(10))
        assertEquals(0, engine.acknowledge(listOf("no-such-id")))
        assertNull(engine.recoverDatabase())
    }

    @Test
    fun `a closed engine refuses calls`() = test {
        val engine = engine()
        engine.close()
        thrown<IllegalStateException> { engine.lexiconVersion() }
    }

    @Test
    fun `a chat call streams labelled lines and ends with its note`() = test {
        val engine = engine(data = encoderData)
        val call = engine.startCall(chat("rep-li"))
        val seen = async { call.events.toList() }
        call.pushLine(Speaker.CUSTOMER, "这个价格太贵了，别家便宜很多", 1.0)
        call.pushLine(Speaker.REP, "我们下周三再电话聊一下方案", 5.0)
        thrown<InvalidInputException> { call.pushPcm16(ShortArray(160), 16_000, 1) }
        val result = call.finish()
        assertEquals(call.callId, result.note.callId)
        assertEquals("2026-12-09", result.note.followUpDate)
        assertTrue(result.note.objections.isNotEmpty())
        val events: List<LiveEvent> = seen.await()
        val utterances = events.filterIsInstance<salescopilot.core.ffi.LiveEvent.Utterance>()
        assertEquals(listOf(0u, 1u), utterances.map { it.utterance.seq })
        thrown<InvalidInputException> { call.finish() }
    }

    @Test
    fun `a recorded stereo call becomes its note through the Kotlin API`() = test {
        val engine = engine(data = encoderData)
        engine.importSnapshot(fixture("customers/distributor.json"))
        val options = CallOptions(
            repId = "rep-chen",
            customerId = "C-00012",
            startedAt = "2026-11-24T10:00:00+08:00",
            language = "en",
            consentToRecord = true,
            asrModel = "whisper-tiny-en",
            threads = null,
            script = null,
        )
        val result = engine.noteRecording(fixture("calls/en-monitors-chen.ogg"), options)
        val note = result.note
        assertEquals(true, note.customer?.inCache)
        assertTrue(note.products.any { it.id == "PM-12" }, "${note.products}")
        val speakers = result.utterances.mapNotNull { it.speaker }.toSet()
        assertEquals(setOf(Speaker.REP, Speaker.CUSTOMER), speakers)
        assertTrue(note.prices.any { it.amount == 3750.0 && it.currency == "USD" }, "${note.prices}")
        thrown<InvalidInputException> {
            engine.noteRecording(fixture("calls/en-monitors-chen.ogg"), options.copy(consentToRecord = false))
        }
    }

    @Test
    fun `deleting the coach's suggestions freezes the scenario until a reset`() = test {
        val engine = engine(data = encoderData)
        val rep = "rep-kotlin-${System.nanoTime()}"
        val call = engine.startCall(chat(rep))
        val seen = async { call.events.toList() }
        call.pushLine(Speaker.CUSTOMER, "这个价格太贵了，超出我们的预期", 1.0)
        call.pushLine(Speaker.CUSTOMER, "说实话价格还是太高了，太贵了", 9.0)
        call.finish()
        val suggested = seen.await()
            .filterIsInstance<salescopilot.core.ffi.LiveEvent.Coach>()
            .map { it.event }
            .filterIsInstance<salescopilot.core.ffi.CoachEvent.Suggestions>()
        assertTrue(suggested.size >= 2, "$suggested")
        var outcome: FeedbackOutcome? = null
        for (event in suggested.take(2)) {
            outcome = engine.recordFeedback(rep, event.suggestions.first().id, SuggestionFate.DELETED)
        }
        val frozen = outcome!!.breaker
        assertEquals(BreakerPhase.OPEN, frozen.state)
        assertEquals(BreakerPhase.CLOSED, engine.resetBreaker(rep, frozen.scenario).state)
        thrown<NotFoundException> {
            engine.recordFeedback(rep, "no-such-suggestion", SuggestionFate.USED)
        }
    }

    /** A Chinese chat (no consent to record) by [rep] on Wednesday 2 December 2026. */
    private fun chat(rep: String) = CallOptions(
        repId = rep,
        customerId = null,
        startedAt = "2026-12-02T10:00:00+08:00",
        language = "zh",
        consentToRecord = false,
        asrModel = null,
        threads = 1u,
        script = null,
    )

    private fun engine(
        models: File = repoRoot.resolve("models"),
        data: File = this.data.toFile(),
    ): CopilotEngine = runBlocking { CopilotEngine.open(models, data) }.also { opened += it }

    companion object {
        private const val ZH_FINAL_PRICE = "这个价格真的没法再降了"
        private const val EN_TOO_EXPENSIVE = "Honestly, that's way too expensive for us."
        private const val UNLISTED = "Could you tell me a bit about your delivery schedule?"
        private val ENCODER_SOURCES = setOf(EvidenceSource.EXAMPLE, EvidenceSource.PROTOTYPE)

        /** The checkout: the first folder up from here that holds `models/manifest.toml`. */
        val repoRoot: File by lazy {
            generateSequence(File("").absoluteFile) { it.parentFile }
                .firstOrNull { File(it, "models/manifest.toml").isFile }
                ?: error("no models/manifest.toml above ${File("").absolutePath}")
        }

        /**
         * The data folder of the core's own classification tests: the first use of the encoder
         * in a data folder embeds every lexicon example (minutes on two busy cores), and this
         * folder keeps them, so CI computes them once for both test suites.
         */
        val encoderData: File by lazy { repoRoot.resolve("target/tmp/classify-test-data") }

        fun fixture(path: String): File = repoRoot.resolve("fixtures/$path")

        /** Runs a test body in a coroutine; JUnit needs the test method to return nothing. */
        fun test(body: suspend CoroutineScope.() -> Unit) = runBlocking { body() }

        /** The exception of type [T] that [block] throws; fails the test when it throws none. */
        inline fun <reified T : Throwable> thrown(block: () -> Unit): T {
            try {
                block()
            } catch (e: Throwable) {
                if (e is T) return e
                throw e
            }
            fail<Unit>("expected ${T::class.simpleName}, nothing was thrown")
            error("unreachable")
        }
    }
}
