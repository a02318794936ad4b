package console

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/triage"
)

//go:embed templates/*.html static/*
var assets embed.FS

type staticFile struct {
	body        []byte
	etag        string
	contentType string
}

func (c *Console) loadAssets() error {
	c.static = map[string]staticFile{}
	entries, err := fs.ReadDir(assets, "static")
	if err != nil {
		return err
	}
	for _, e := range entries {
		body, err := fs.ReadFile(assets, "static/"+e.Name())
		if err != nil {
			return err
		}
		ct := "application/octet-stream"
		switch {
		case strings.HasSuffix(e.Name(), ".css"):
			ct = "text/css; charset=utf-8"
		case strings.HasSuffix(e.Name(), ".js"):
			ct = "text/javascript; charset=utf-8"
		case strings.HasSuffix(e.Name(), ".svg"):
			ct = "image/svg+xml"
		}
		c.static[e.Name()] = staticFile{body: body, etag: fmt.Sprintf(`"%s"`, HashToken(string(body))[:16]), contentType: ct}
	}
	funcs := template.FuncMap{
		"sevClass": func(s detectors.Severity) string { return "sev-" + string(s) },
		"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"short":    shortID,
		"pct":      func(x float64) string { return fmt.Sprintf("%.0f%%", x*100) },
		"title":    func(s triage.Status) string { return strings.ToUpper(string(s[:1])) + string(s[1:]) },
		"key":      func(s triage.Status) string { return string(s[:1]) },
		"verb":     verb,
		"join":     strings.Join,
		"flagURL":  func(id string) string { return Prefix + "flags/" + id },
		"verdictURL": func(id string) string {
			return Prefix + "flags/" + id + "/verdict"
		},
		"withFrom": func(id, from string) string {
			if from == Prefix {
				return Prefix + "flags/" + id
			}
			return Prefix + "flags/" + id + "?from=" + url.QueryEscape(from)
		},
	}
	for k, f := range reportFuncs {
		funcs[k] = f
	}
	c.pages = map[string]*template.Template{}
	for _, name := range []string{"queue", "flag", "rules", "admin", "lookup", "login", "error", "report", "reports"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// verb is the button label of a decision.
func verb(s triage.Status) string {
	switch s {
	case triage.Confirmed:
		return "Confirm"
	case triage.Dismissed:
		return "Dismiss"
	case triage.Escalated:
		return "Escalate"
	}
	return string(s)
}

func (c *Console) assetURL(name string) string {
	f := c.static[name]
	return Prefix + "static/" + name + "?v=" + strings.Trim(f.etag, `"`)
}

func (c *Console) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := c.static[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Content-Type", f.contentType)
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(f.body)
}
