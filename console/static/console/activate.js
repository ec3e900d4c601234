// The activation link carries its token in the #fragment (never sent to the server, never in a log):
// put it into the form, hide the field the person then need not see, and drop it from the address bar.
(function () {
  "use strict";
  var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  var input = document.getElementById("id_token");
  var wrapper = document.getElementById("activation-token");
  if (!match || !input) {
    return;
  }
  input.value = decodeURIComponent(match[1]);
  if (wrapper && wrapper.hasAttribute("data-from-link")) {
    wrapper.hidden = true;
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
})();
