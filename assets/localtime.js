/* Times to the minute in the viewer's time zone: every <span class="local-time" data-utc="...Z"> the server
   writes (ui/format.when) is rewritten in the browser; the UTC text stays in the title (hover). */
(function () {
  const fmt = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "short", day: "2-digit",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short"});
  function convert(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("span.local-time[data-utc]").forEach(function (el) {
      const iso = el.getAttribute("data-utc");
      if (el.getAttribute("data-shown") === iso) return;
      const d = new Date(iso);
      if (!isNaN(d)) { el.textContent = fmt.format(d); el.setAttribute("data-shown", iso); }
    });
  }
  new MutationObserver(function () { convert(document); })
    .observe(document.documentElement, {childList: true, subtree: true, characterData: false});
  document.addEventListener("DOMContentLoaded", function () { convert(document); });
})();
