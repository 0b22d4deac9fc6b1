/* My queue: the chosen agent's queue goes into the URL (replaceState), so Back and a shared link show it. */
(function () {
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
