package postgres

// GroupStats reports how many groups of more than one append ran, and the
// appends in them, for tests.
var GroupStats = func() (groups, appends int64) { return statGroups.Load(), statGrouped.Load() }

// BatchStats reports how many batches the group commit ran, alone or
// combined, and the appends in them, for tests.
var BatchStats = func() (batches, appends int64) { return statBatches.Load(), statBatched.Load() }

// ChannelName is channelName, for tests.
var ChannelName = channelName

// Queued returns how many appends wait for a group commit in s.
func Queued(s *Store) int { return s.group.Len() }

// PageLimit is pageLimit, for tests.
var PageLimit = pageLimit
