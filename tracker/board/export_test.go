package board

// SetBulk makes an empty model catching up min events or more bulk load,
// writing settled items every stretch events, and returns a function that
// restores the defaults.
func SetBulk(min int64, stretch int) func() {
	oldMin, oldStretch := bulkMin, bulkProgress
	bulkMin, bulkProgress = min, stretch
	return func() { bulkMin, bulkProgress = oldMin, oldStretch }
}
