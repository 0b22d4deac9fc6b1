/* My queue: the grid's customer link and click-to-call renderers; the chosen agent's queue goes into the URL
   (replaceState), so Back and a shared link show it. */
(function () {
    /* the customer: name (or id) linking to its page inside the app; a modified click opens a new tab */
    var dagfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});
    dagfuncs.QueueCustomer = function (props) {
        var d = props.data || {};
        var path = "/customers/" + encodeURIComponent(d.customer_id);
        return React.createElement("a", {
            href: path, className: "queue-customer fw-semibold",
            onClick: function (event) {
                if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) {
                    return;
                }
                event.preventDefault();
                window.history.pushState({}, "", path);
                window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
                window.scrollTo(0, 0);
            },
        }, d.name ? d.name + " · " + d.customer_id : d.customer_id);
    };
    /* click to call, and the email */
    dagfuncs.QueueReach = function (props) {
        var d = props.data || {};
        var parts = [];
        if (d.phone) {
            parts.push(React.createElement("a", {key: "p", href: "tel:" + d.phone, className: "me-2 queue-phone"}, d.phone));
        }
        if (d.email) {
            parts.push(React.createElement("a", {key: "e", href: "mailto:" + d.email}, d.email));
        }
        return React.createElement("span", null, parts);
    };

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.queue = {
        agent: function (agent) {
            if (!agent) {
                return window.dash_clientside.no_update;
            }
            var url = new URL(window.location.href);
            url.searchParams.set("agent", agent);
            window.history.replaceState(window.history.state, "", url.pathname + url.search);
            return agent;
        },
    };
})();
