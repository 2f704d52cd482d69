import Foundation
import Weave

/// The report as the preview serves it: the built `index.html` with a small script (and, when
/// the last build stopped before rendering, its error) added. Only served pages get these; the
/// report on disk stays script-free.
public enum PreviewPage {
    /// Path of the websocket the script connects to.
    public static let socketPath = "/_weave/live"
    /// Marks the added elements, so a test (or a reader of the page source) can find them.
    public static let marker = "weave-preview"

    /// `report` with the script before `</body>` and, when `error` is set, a banner right after
    /// `<body>` saying the page shows the last report that built. Nil `report` (nothing built
    /// yet) gives a short page that says the first build is running.
    public static func render(report: String?, generation: Int, error: String?) -> String {
        var html = report ?? """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>weave preview</title></head>
        <body>
        <p>No report has been built yet: the first build is running. This page reloads when it ends.</p>
        </body>
        </html>

        """
        if let error {
            let banner = "<div class=\"failure-banner \(marker)\" id=\"\(marker)-error\" style=\"margin:1rem 0;border:1px solid #b3261e;"
                + "background:#fdf2f1;padding:.6rem 1rem;border-radius:4px\"><strong style=\"color:#b3261e\">The last build stopped "
                + "before it could run or render anything"
                + (report == nil ? "" : "; below is the report from the build before it") + ":</strong>\n<pre style=\"white-space:pre-wrap\">"
                + escapeHTML(error) + "</pre></div>\n"
            html = insert(banner, in: html, afterOpening: "<body")
        }
        return insert(script(generation: generation), in: html, before: "</body>")
    }

    /// The script: connects to the websocket, shows the build's lines in a small panel while
    /// it runs, reloads the page (keeping the scroll position) when a build ends, and retries
    /// when the server goes away (a restarted preview is noticed by its generation).
    static func script(generation: Int) -> String {
        """
        <script id="\(marker)">
        (function () {
          var served = \(generation), panel = null, log = null, running = null, title = null;
          var key = "weave-preview-scroll";
          var y = sessionStorage.getItem(key);
          if (y !== null) { sessionStorage.removeItem(key); window.scrollTo(0, +y); }
          function show() {
            if (panel) return;
            panel = document.createElement("div");
            panel.id = "\(marker)-panel";
            panel.setAttribute("style", "position:fixed;right:12px;bottom:12px;z-index:9999;max-width:36rem;max-height:40vh;" +
              "overflow:auto;background:#fff;border:1px solid #999;border-radius:6px;box-shadow:0 2px 10px rgba(0,0,0,.2);" +
              "padding:.5rem .8rem;font:12.5px/1.4 ui-monospace,monospace;white-space:pre-wrap");
            title = document.createElement("div"); title.style.fontWeight = "bold";
            log = document.createElement("div");
            running = document.createElement("div"); running.style.color = "#555";
            panel.appendChild(title); panel.appendChild(log); panel.appendChild(running);
            document.body.appendChild(panel);
          }
          function add(text) { show(); var line = document.createElement("div"); line.textContent = text; log.appendChild(line); panel.scrollTop = panel.scrollHeight; }
          function reload() { sessionStorage.setItem(key, String(window.scrollY)); location.reload(); }
          function connect() {
            var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "\(socketPath)");
            ws.onmessage = function (event) {
              var m = JSON.parse(event.data);
              if (m.type === "hello") {
                if (m.generation !== served) { reload(); return; }
                if (m.building) { show(); title.textContent = "weave: building"; (m.lines || []).forEach(add); }
              } else if (m.type === "start") {
                show(); log.textContent = ""; running.textContent = ""; title.textContent = "weave: building (" + m.text + ")";
              } else if (m.type === "message") {
                add(m.text);
              } else if (m.type === "running") {
                show(); running.textContent = (m.lines || []).join("\\n");
              } else if (m.type === "reload") {
                if (m.generation !== served) reload();
              }
            };
            ws.onclose = function () {
              show(); title.textContent = "weave: preview server not reachable; retrying";
              setTimeout(connect, 1000);
            };
          }
          connect();
        })();
        </script>

        """
    }

    static func insert(_ text: String, in html: String, before tag: String) -> String {
        guard let range = html.range(of: tag, options: .backwards) else { return html + text }
        return html.replacingCharacters(in: range.lowerBound..<range.lowerBound, with: text)
    }

    static func insert(_ text: String, in html: String, afterOpening tag: String) -> String {
        guard let start = html.range(of: tag), let end = html[start.upperBound...].firstIndex(of: ">") else { return text + html }
        let after = html.index(after: end)
        return html.replacingCharacters(in: after..<after, with: "\n" + text)
    }
}
