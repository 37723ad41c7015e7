package salescopilot.core

// The records the core returns, under this package so an app imports `salescopilot.core.*`
// alone. They are the generated classes themselves, with the core's documentation.

typealias Speaker = salescopilot.core.ffi.Speaker
typealias Classification = salescopilot.core.ffi.Classification
typealias Evidence = salescopilot.core.ffi.Evidence
typealias EvidenceSource = salescopilot.core.ffi.EvidenceSource
typealias CustomerCard = salescopilot.core.ffi.CustomerCard
typealias CustomerSummary = salescopilot.core.ffi.CustomerSummary
typealias PurchaseCycle = salescopilot.core.ffi.PurchaseCycle
typealias CompetitorContact = salescopilot.core.ffi.CompetitorContact
typealias OpenObjection = salescopilot.core.ffi.OpenObjection
typealias OpenCommitment = salescopilot.core.ffi.OpenCommitment
typealias Trend = salescopilot.core.ffi.Trend
typealias ImportSummary = salescopilot.core.ffi.ImportSummary
typealias OutboxRecord = salescopilot.core.ffi.OutboxRecord
typealias ModelStatus = salescopilot.core.ffi.ModelStatus
typealias ModelState = salescopilot.core.ffi.ModelState
typealias Transcript = salescopilot.core.ffi.Transcript
typealias Segment = salescopilot.core.ffi.Segment
typealias TranscribeOptions = salescopilot.core.ffi.TranscribeOptions
typealias CallOptions = salescopilot.core.ffi.CallOptions
typealias CallResult = salescopilot.core.ffi.CallResult
typealias CallUtterance = salescopilot.core.ffi.CallUtterance
typealias LiveEvent = salescopilot.core.ffi.LiveEvent
typealias CoachEvent = salescopilot.core.ffi.CoachEvent
typealias Note = salescopilot.core.ffi.Note
typealias ChineseScript = salescopilot.core.ffi.ChineseScript
typealias UnfinishedCall = salescopilot.core.ffi.UnfinishedCall
typealias Suggestion = salescopilot.core.ffi.Suggestion
typealias SuggestionFate = salescopilot.core.ffi.SuggestionFate
typealias FeedbackOutcome = salescopilot.core.ffi.FeedbackOutcome
typealias BreakerState = salescopilot.core.ffi.BreakerState
typealias BreakerPhase = salescopilot.core.ffi.BreakerPhase
