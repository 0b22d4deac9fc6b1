/* Grid cell formats that need the browser (ui/format.GRID_*): a UTC time to the minute in the viewer's zone. */
(function () {
  var dagfuncs = window.dashAgGridFunctions = window.dashAgGridFunctions || {};
  var fmt = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "short", day: "2-digit",
    hour: "2-digit", minute: "2-digit"});
  dagfuncs.localTime = function (iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return isNaN(d) ? String(iso) : fmt.format(d);
  };
})();
/* "inactive_14d,calls_14d" -> "No session for 14 days, 2+ support calls in 14 days" (labels: ui/format.LABELS) */
(function () {
  var dagfuncs = window.dashAgGridFunctions = window.dashAgGridFunctions || {};
  dagfuncs.codeLabels = function (value, labels) {
    if (value == null || value === "") return "";
    return String(value).split(/[,;]/).map(function (code) {
      code = code.trim();
      if (labels[code]) return labels[code];
      var words = code.replace(/[._-]/g, " ");
      return words.charAt(0).toUpperCase() + words.slice(1);
    }).join(", ");
  };
})();
