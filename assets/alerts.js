/* Alert centre: the view (tab, filters, rule group, selected alert) in the query string (replaceState). */
(function () {
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.alerts = {
        syncUrl: function (status, types, severities, time, rule, selected) {
            if (window.location.pathname !== "/alerts") {
                return window.dash_clientside.no_update;
            }
            var q = new URLSearchParams();
            if (status && status !== "active") { q.set("status", status); }
            if (types && types.length) { q.set("type", types.join(",")); }
            if (severities && severities.length) { q.set("severity", severities.join(",")); }
            if (time && time !== "all") { q.set("time", time); }
            if (rule) { q.set("rule", rule); }
            if (selected) { q.set("id", selected); }
            var search = q.toString() ? "?" + q.toString() : "";
            if (search !== window.location.search) {
                window.history.replaceState(window.history.state, "", "/alerts" + search);
            }
            return search;
        },
    };
})();
