package webui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser tests: the pages in headless Chromium (Debian's chromium
// package), driven through the DevTools protocol by chromedp. One browser
// serves the whole package, a tab per test. Without chromium the tests
// skip, except in CI (CI set), where they fail: .ci/run installs it.
//
// Screenshots go to $JERRY_SCREENSHOTS, else to a new temporary directory;
// each test logs the paths it wrote.

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	if jerryBin.path != "" {
		os.RemoveAll(filepath.Dir(jerryBin.path)) // the jerry command built for the tests
	}
	os.Exit(code)
}

// chromium returns the path of a Chromium or Chrome binary, "" if none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab opens a new tab in the package's browser, starting it on first use.
func tab(t *testing.T) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but chromium is not installed: .ci/run installs Debian's chromium package before the tests")
		}
		t.Skip("chromium is not installed (apt-get install chromium); CI installs it and runs this test")
	}
	browser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1400, 900),
			// CI runs as root, where Chromium's sandbox cannot start.
			chromedp.NoSandbox, chromedp.DisableGPU)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		browser.ctx, browser.cancel = bctx, func() { bcancel(); acancel() }
		browser.err = chromedp.Do(bctx) // starts the browser
	})
	if browser.err != nil {
		t.Fatalf("start %s: %v", path, browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var shots struct {
	once sync.Once
	dir  string
	err  error
}

// screenshot saves the whole page as NAME.png among the test artifacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shots.once.Do(func() {
		shots.dir = os.Getenv("JERRY_SCREENSHOTS")
		if shots.dir == "" {
			shots.dir, shots.err = os.MkdirTemp("", "jerry-screenshots-")
			return
		}
		shots.err = os.MkdirAll(shots.dir, 0o755)
	})
	if shots.err != nil {
		t.Fatal(shots.err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(shots.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript predicate every 10 ms until it holds or d
// has passed.
func waitFor(ctx context.Context, js string, d time.Duration) error {
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(d)))
	return err
}

// cardColumn is a predicate's expression for the column a card is in.
func cardColumn(id string) string {
	return fmt.Sprintf(`(document.getElementById("card-%s")?.closest("section")?.dataset.status ?? "")`, id)
}

func TestBrowserBoardShowsCards(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	ctx := tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, `document.querySelectorAll("#board .card").length > 0`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#board .card").length`); n != 5 {
		t.Errorf("%d cards on the board, want 5", n)
	}
	for id, col := range map[string]string{"J-1": "done", "J-2": "in_progress", "J-3": "ready", "J-4": "backlog", "J-5": "ready"} {
		if got := eval[string](t, ctx, cardColumn(id)); got != col {
			t.Errorf("%s in column %q, want %q", id, got, col)
		}
	}
	if got := eval[string](t, ctx, `document.querySelector("#card-J-2 .title").textContent`); got != "Fix login bug" {
		t.Errorf("J-2's title %q", got)
	}
	screenshot(t, ctx, "board")
}

var jerryBin struct {
	once sync.Once
	path string
	err  error
}

// jerry builds the jerry command once for the package, and returns its path.
func jerry(t *testing.T) string {
	t.Helper()
	jerryBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "jerry-webui-bin-")
		if err != nil {
			jerryBin.err = err
			return
		}
		jerryBin.path = filepath.Join(dir, "jerry")
		out, err := exec.Command("go", "build", "-o", jerryBin.path, "github.com/jerry-es/jerry/cmd/jerry").CombinedOutput()
		if err != nil {
			jerryBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if jerryBin.err != nil {
		t.Fatal(jerryBin.err)
	}
	return jerryBin.path
}

// A card that another process writes appears on the open page within a
// second, without a reload.
func TestBrowserLiveWriteByAnotherProcess(t *testing.T) {
	bin := jerry(t)
	s := newStory(t)
	srv := s.server(t)
	ctx := tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, `document.getElementById("live").dataset.state === "on"`, 10*time.Second); err != nil {
		t.Fatalf("the page never went live: %v", err)
	}
	// A reload would lose this.
	eval[string](t, ctx, `window.notReloaded = "same page"`)

	for i, tc := range []struct {
		args []string
		id   string
		col  string
	}{
		{[]string{"create", "Written by another process"}, "J-6", "backlog"},
		{[]string{"status", "J-3", "in_progress"}, "J-3", "in_progress"},
	} {
		cmd := exec.Command(bin, append(tc.args, "--store", "file:"+s.dir, "--actor", "zoe")...)
		cmd.Env = append(os.Environ(), "JERRY_STORE=", "JERRY_ACTOR=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("jerry %v: %v\n%s", tc.args, err, out)
		}
		written := time.Now()
		err := waitFor(ctx, cardColumn(tc.id)+` === "`+tc.col+`"`, time.Second)
		shown := time.Now()
		if err != nil {
			t.Fatalf("jerry %v: %s not in %s on the open page within 1 s of the command's exit: %v", tc.args, tc.id, tc.col, err)
		}
		h, err := s.svc.History(context.Background(), tc.id)
		if err != nil {
			t.Fatal(err)
		}
		committed := h[len(h)-1].Record.Time
		t.Logf("write %d (jerry %s): on the page %v after the command exited, %v after the event's recorded time",
			i+1, strings.Join(tc.args, " "), shown.Sub(written).Round(time.Millisecond), shown.Sub(committed).Round(time.Millisecond))
	}
	if got := eval[string](t, ctx, `window.notReloaded ?? "reloaded"`); got != "same page" {
		t.Errorf("the page was reloaded (%q)", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#board .card").length`); n != 6 {
		t.Errorf("%d cards after the create, want 6", n)
	}
	screenshot(t, ctx, "board-live")
}

// The time slider shows the board as it stood at the moment chosen, and
// puts that moment in the address.
func TestBrowserTimeSlider(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	ctx := tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, `document.querySelectorAll("#board .card").length === 5`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Move the slider to noon on D-4, as a person dragging it would.
	eval[bool](t, ctx, fmt.Sprintf(`(() => {
		const s = document.getElementById("slider");
		s.value = "%d";
		s.dispatchEvent(new Event("input"));
		s.dispatchEvent(new Event("change"));
		return true;
	})()`, day(4, 12).Unix()))
	if err := waitFor(ctx, `document.getElementById("columns").dataset.asOf !== ""`, 10*time.Second); err != nil {
		t.Fatalf("the board never showed the past: %v", err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#board .card").length`); n != 3 {
		t.Errorf("%d cards as of D-4 noon, want 3 (J-1, J-2, J-3)", n)
	}
	for id, col := range map[string]string{"J-1": "in_progress", "J-2": "ready", "J-3": "backlog", "J-4": "", "J-5": ""} {
		if got := eval[string](t, ctx, cardColumn(id)); got != col {
			t.Errorf("as of D-4 noon, %s in column %q, want %q", id, got, col)
		}
	}
	if loc := eval[string](t, ctx, `location.search`); !strings.Contains(loc, "as_of=2026-11-16T12%3A00%3A00") {
		t.Errorf("the address %q does not hold the moment", loc)
	}
	if got := eval[string](t, ctx, `document.getElementById("columns").dataset.asOf`); got != "2026-11-16 12:00:00" {
		t.Errorf("the board says it shows %q", got)
	}
	screenshot(t, ctx, "board-as-of")
}

// The item's timeline and the cumulative flow diagram render with a band
// per status interval and a band per status present.
func TestBrowserPictures(t *testing.T) {
	s := newStory(t)
	srv := s.server(t)
	ctx := tab(t)
	count := func(sel string) int {
		return eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/item/J-1")); err != nil {
		t.Fatal(err)
	}
	if n := count("#timeline .band"); n != 5 {
		t.Errorf("J-1's timeline: %d bands, want 5", n)
	}
	if n := count("#timeline .mark"); n != 6 {
		t.Errorf("J-1's timeline: %d marks, want 6", n)
	}
	// The bands stand side by side, in time order, and are drawn.
	if ok := eval[bool](t, ctx, `(() => {
		const b = [...document.querySelectorAll("#timeline .band")].map(r => r.getBBox());
		return b.every((r, i) => r.width > 0 && (i === 0 || r.x >= b[i-1].x + b[i-1].width - 0.2));
	})()`); !ok {
		t.Error("the timeline's bands overlap or are empty")
	}
	screenshot(t, ctx, "item-timeline")

	for _, tc := range []struct {
		query       string
		bands, dots int
	}{{"", 5, 1}, {"?days=2", 4, 0}} { // J-1 was done before the last 2 days
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/charts"+tc.query)); err != nil {
			t.Fatal(err)
		}
		if n := count("#cfd .band"); n != tc.bands {
			t.Errorf("/charts%s: the cumulative flow diagram has %d bands, want %d", tc.query, n, tc.bands)
		}
		if n := count("#cycle .dot"); n != tc.dots {
			t.Errorf("/charts%s: %d cycle-time dots, want %d", tc.query, n, tc.dots)
		}
		if tc.query == "" {
			screenshot(t, ctx, "charts")
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/initiative/I-1")); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, `document.querySelector(".progress-text").textContent`); got != "1 done, 0 cancelled, 1 open of 2 (50%)" {
		t.Errorf("initiative progress %q", got)
	}
	screenshot(t, ctx, "initiative")
}
