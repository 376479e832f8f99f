package postgres

// GroupStats reports how many groups of more than one append ran, and the
// appends in them, for tests.
var GroupStats = func() (groups, appends int64) { return statGroups.Load(), statGrouped.Load() }

// ChannelName is channelName, for tests.
var ChannelName = channelName

// Queued returns how many appends wait for a group commit in s.
func Queued(s *Store) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}

// PageLimit is pageLimit, for tests.
var PageLimit = pageLimit
