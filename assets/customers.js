/* Customers page: the customer id cell is a link to /customers/<id>; a plain click navigates inside the
   app (like dcc.Link: pushState + Dash's location event), a modified click opens a new tab as usual. */
(function () {
    function customerPath(id) {
        return "/customers/" + encodeURIComponent(id);
    }

    function go(path) {
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
                go(path);
            },
        }, props.value);
    };

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.customers = {
        /* a click anywhere else on a row opens the customer too */
        open: function (cell) {
            if (cell && cell.colId !== "customer_id" && cell.rowId) {
                go(customerPath(cell.rowId));
            }
            return window.dash_clientside.no_update;
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
