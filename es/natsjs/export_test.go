package natsjs

// ResolvedRetries returns how many appends, in this process, found their
// events stored after an attempt whose outcome they did not learn.
func ResolvedRetries() int64 { return resolvedRetries.Load() }
