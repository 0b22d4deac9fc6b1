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
