package main

import (
	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/view"
)

// The --json shapes live in package tracker/view, which the HTTP API shares;
// they are a contract documented in docs/json.md (TestJSONShapesMatchDocs
// holds the two together). These names keep the commands short.

type itemJSON = view.Item

func cardView(c app.Card) itemJSON                  { return view.CardItem(c) }
func cardViews(cards []app.Card) []itemJSON         { return view.CardItems(cards) }
func itemView(it tracker.Item) itemJSON             { return view.ItemOf(it) }
func stuckViews(stuck []app.Stuck) []view.Stuck     { return view.StuckItems(stuck) }
func historyView(h []app.Entry) []view.HistoryEntry { return view.History(h) }
func logView(r es.Record) view.LogRecord            { return view.LogRecordOf(r) }

func initiativeView(s tracker.InitiativeState) view.Initiative { return view.InitiativeOf(s) }

func initiativeViews(list []tracker.InitiativeState) []view.Initiative {
	return view.Initiatives(list)
}

func initiativeDetailView(in tracker.InitiativeState, members []app.Member) view.InitiativeDetail {
	return view.InitiativeDetailOf(in, members)
}
