/* The view of the tutors and churn pages in the query string (replaceState), so Back, a bookmark and a
   shared link show the same: the layouts read these keys (tutor, subject, period; customer). */
(function () {
    function sync(path, values) {
        if (window.location.pathname !== path) {
            return window.dash_clientside.no_update;
        }
        var url = new URL(window.location.href);
        Object.keys(values).forEach(function (k) {
            if (values[k] == null || values[k] === "") {
                url.searchParams.delete(k);
            } else {
                url.searchParams.set(k, values[k]);
            }
        });
        if (url.search !== window.location.search) {
            window.history.replaceState(window.history.state, "", url.pathname + url.search);
        }
        return url.search;
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.urlstate = {
        tutors: function (period, subject, tutor) {
            return sync("/tutors", {period: period, subject: subject, tutor: tutor});
        },
        churn: function (customer) {
            return sync("/churn", {customer: customer});
        },
    };
})();
