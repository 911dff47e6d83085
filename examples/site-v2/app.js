// The single-page app's entry: /track/<token> and /book/* are rewritten to /index.html at the edge.
(function () {
  var path = window.location.pathname;
  if (path.indexOf('/track/') === 0) {
    document.getElementById('job').textContent = 'Tracking a job (release 20261204-0900).';
  }
})();
