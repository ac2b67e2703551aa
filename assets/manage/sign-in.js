// The sign-in page: focus on the first empty field, and, when this browser holds a Navidrome
// session on this origin (Navidrome's UI keeps its token in localStorage as "token"), sign in
// with it: the token is posted once as a bearer token (to /share/_manage/sign-in/token), and
// sharelog answers with its own session cookie. Not by itself right after a sign-out (a button offers it instead).
(function () {
  'use strict';

  var form = document.getElementById('sign-in');
  var user = document.getElementById('username');
  var pass = document.getElementById('password');
  var box = document.getElementById('navidrome');
  var status = document.getElementById('navidrome-status');
  var button = document.getElementById('navidrome-button');
  (user.value ? pass : user).focus();

  var token = null;
  try { token = window.localStorage.getItem('token'); } catch (e) { token = null; }
  if (!token) { return; }

  function useSession() {
    box.hidden = false;
    button.hidden = true;
    status.textContent = 'Signing in with your Navidrome session…';
    fetch(document.body.dataset.tokenSignIn, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-ND-Authorization': 'Bearer ' + token, 'Accept': 'application/json' }
    }).then(function (r) {
      if (r.ok) {
        window.location.assign(document.body.dataset.page);
        return;
      }
      status.textContent = r.status === 503
        ? 'Your Navidrome session cannot be checked right now; sign in with your password.'
        : 'Your Navidrome session was not accepted; sign in with your password.';
    }).catch(function () {
      status.textContent = 'Could not reach the server; sign in with your password.';
    });
  }

  if (document.body.dataset.auto === 'true') {
    useSession();
  } else {
    box.hidden = false;
    button.hidden = false;
    status.textContent = 'This browser is signed in to Navidrome.';
    button.addEventListener('click', useSession);
  }
})();
