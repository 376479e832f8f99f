package postgres

// GroupStats reports how many groups of more than one append ran, and the
// appends in them, for tests.
var GroupStats = func() (groups, appends int64) { return statGroups.Load(), statGrouped.Load() }

// ChannelName is channelName, for tests.
var ChannelName = channelName

// Queued returns how many appends wait for a group commit in s.
func Queued(s *Store) int { return s.group.Len() }

// PageLimit is pageLimit, for tests.
var PageLimit = pageLimit
