package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// assets are the live view's files, embedded: flowd runs in private subnets, so the page
// loads nothing from elsewhere.
//
//go:embed assets
var assets embed.FS

// contentSecurityPolicy lets the page load only its own files and call only its own API.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageHandler serves the live view at "/" and its files under "/static/". Every link in them
// is relative, so the page works under any route prefix or reverse-proxy path.
func pageHandler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	static := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		switch {
		case r.URL.Path == "/":
			http.ServeFileFS(w, r, sub, "index.html")
		case len(r.URL.Path) > len("/static/") && r.URL.Path[:len("/static/")] == "/static/" && r.URL.Path != "/static/index.html":
			static.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
