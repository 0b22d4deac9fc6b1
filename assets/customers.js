/* Customers page: the customer id cell is a link to /customers/<id>; a plain click navigates inside the
   app (like dcc.Link: pushState + Dash's location event), a modified click opens a new tab as usual. */
(function () {
    function customerPath(id) {
        return "/customers/" + encodeURIComponent(id);
    }

    var VIEW_KEY = "customers-view";  // the list's query string, for the detail page's "All customers"

    /* remember the row being opened in the list's own URL, so Back shows it highlighted */
    function rememberRow(id) {
        if (window.location.pathname !== "/customers") {
            return;
        }
        var url = new URL(window.location.href);
        url.searchParams.set("row", id);
        window.history.replaceState(window.history.state, "", url.pathname + url.search);
        window.sessionStorage.setItem(VIEW_KEY, url.search);
    }

    function go(path, id) {
        if (id != null) {
            rememberRow(id);
        }
        window.history.pushState({}, "", path);
        window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
        window.scrollTo(0, 0);
    }

    var dagfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});
    dagfuncs.CustomerLink = function (props) {
        if (props.value == null) {
            return null;
        }
        var path = customerPath(props.value);
        return React.createElement("a", {
            href: path,
            className: "customers-link",
            onClick: function (event) {
                if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) {
                    return;
                }
                event.preventDefault();
                go(path, props.value);
            },
        }, props.value);
    };

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.customers = {
        /* a click anywhere else on a row opens the customer too */
        open: function (cell) {
            if (cell && cell.colId !== "customer_id" && cell.rowId) {
                go(customerPath(cell.rowId), cell.rowId);
            }
            return window.dash_clientside.no_update;
        },
        /* the view -> the query string (replaceState: one history entry per visit, Back leaves the list) */
        syncUrl: function (request, tier, segment, subject, tutor, channel, attention, owner, followUp, contacted) {
            if (window.location.pathname !== "/customers") {
                return window.dash_clientside.no_update;
            }
            var old = new URL(window.location.href).searchParams;
            var q = new URLSearchParams();
            var lists = {tier: tier, segment: segment, subject: subject, tutor: tutor, channel: channel, owner: owner};
            Object.keys(lists).forEach(function (k) {
                if (lists[k] && lists[k].length) {
                    q.set(k, lists[k].join(","));
                }
            });
            if (attention) { q.set("attention", "1"); }
            if (followUp) { q.set("follow_up", followUp); }
            if (contacted) { q.set("contacted", contacted); }
            if (request) {
                var sort = (request.sortModel || [])[0];
                if (sort) { q.set("sort", sort.colId + ":" + sort.sort); }
                var filter = Object.assign({}, request.filterModel || {});
                delete filter.name;  /* personal data stays out of URLs (they end up in access logs and history) */
                if (Object.keys(filter).length) { q.set("filter", JSON.stringify(filter)); }
            } else {
                ["sort", "filter"].forEach(function (k) { if (old.get(k)) { q.set(k, old.get(k)); } });
            }
            if (old.get("row")) { q.set("row", old.get("row")); }
            var search = q.toString() ? "?" + q.toString() : "";
            if (search !== window.location.search) {
                window.history.replaceState(window.history.state, "", "/customers" + search);
            }
            window.sessionStorage.setItem(VIEW_KEY, search);
            return search;
        },
        /* a saved view: load the page at its address */
        openView: function (query) {
            if (query != null) {
                window.location.assign("/customers" + query);
            }
            return window.dash_clientside.no_update;
        },
        /* the detail page's "All customers": back to the list as it was left */
        backHref: function () {
            return "/customers" + (window.sessionStorage.getItem(VIEW_KEY) || "");
        },
        /* new scores: reload the loaded blocks where they are (the agent keeps the place in the list) */
        refresh: function () {
            try {
                window.dash_ag_grid.getApi("customers-grid").refreshInfiniteCache();
            } catch (e) {
                /* not rendered yet: it fetches on its own */
            }
            return window.dash_clientside.no_update;
        },
        /* quick filters: drop the loaded blocks and ask the server again, from the top */
        refetch: function () {
            var api;
            try {
                api = window.dash_ag_grid.getApi("customers-grid");
            } catch (e) {
                return window.dash_clientside.no_update;  // not rendered yet: it fetches on its own
            }
            api.ensureIndexVisible(0, "top");
            api.purgeInfiniteCache();
            return window.dash_clientside.no_update;
        },
    };
})();
