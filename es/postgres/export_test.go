package postgres

// GroupStats reports how many groups of more than one append ran, and the
// appends in them, for tests.
var GroupStats = func() (groups, appends int64) { return statGroups.Load(), statGrouped.Load() }

// ChannelName is channelName, for tests.
var ChannelName = channelName
