// Jerry's board: keeps the columns live and drives the time slider.
// The server draws everything; this script only fetches /board again when
// /live says the log moved, and moves ?as_of= with the slider.
"use strict";
(function () {
  const board = document.getElementById("board");
  if (!board) return;
  const slider = document.getElementById("slider");
  const when = document.getElementById("when");
  const live = document.getElementById("live");

  // asOf is the moment shown, "" for now.
  function asOf() {
    return new URLSearchParams(location.search).get("as_of") || "";
  }

  // refresh fetches the columns for the page's query; a change that comes
  // while a fetch is under way makes it fetch once more after.
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await fetch("/board" + location.search, { cache: "no-store" });
      if (r.ok) board.innerHTML = await r.text();
    } catch (e) {
      // The next change or reconnect tries again.
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  function show(secs) {
    if (Number(secs) >= Number(slider.max)) { when.textContent = "now"; return; }
    when.textContent = new Date(secs * 1000).toLocaleString();
  }

  if (slider) {
    slider.addEventListener("input", () => show(slider.value));
    slider.addEventListener("change", () => {
      const q = new URLSearchParams(location.search);
      if (Number(slider.value) >= Number(slider.max)) q.delete("as_of");
      else q.set("as_of", new Date(slider.value * 1000).toISOString());
      const s = q.toString();
      history.replaceState(null, "", s ? "?" + s : location.pathname);
      show(slider.value);
      refresh();
    });
  }

  // Follow the log from the position the page was drawn at: nothing
  // committed since is missed, and a reconnect resumes after the last id.
  if (window.EventSource) {
    const from = Number(board.dataset.position) + 1;
    const es = new EventSource("/live?from=" + from);
    es.addEventListener("open", () => { live.dataset.state = "on"; live.textContent = "live"; });
    es.addEventListener("error", () => { live.dataset.state = "off"; live.textContent = "reconnecting"; });
    es.addEventListener("change", (e) => {
      board.dataset.position = e.data;
      if (slider) {
        const now = Math.ceil(Date.now() / 1000) + 1;
        const atEnd = Number(slider.value) >= Number(slider.max);
        slider.max = String(now);
        if (atEnd) slider.value = String(now);
      }
      if (asOf() === "") refresh();
    });
  }
})();
