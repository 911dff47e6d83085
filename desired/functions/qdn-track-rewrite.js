// Viewer request: the single-page app answers /track/* and /book/* from /index.html.
// The original path is kept in the querystring entry `original_path` so the app can route.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.indexOf('/track/') === 0 || uri.indexOf('/book/') === 0) {
    request.querystring = request.querystring || {};
    request.querystring.original_path = { value: uri };
    request.uri = '/index.html';
  }
  return request;
}
