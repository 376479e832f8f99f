package natsjs

// ResolvedRetries returns how many appends, in this process, found their
// events stored after an attempt whose outcome they did not learn.
func ResolvedRetries() int64 { return resolvedRetries.Load() }

// ConflictAnswers returns how many appends, in this process, the server
// answered with error 10071 (wrong last sequence) and 10164 (another write
// to the subject in flight).
func ConflictAnswers() (wrong, busy int64) {
	return wrongLastSeq.Load(), subjectBusy.Load()
}
