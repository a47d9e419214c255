// Copy buttons of the config page. Each button names, in data-copy, the
// readonly box whose text it copies; the box stays selectable without this
// script, so the button is shown only once the script runs. What happened is
// said in the status line beside the button (read out by screen readers).
(function () {
  'use strict';

  var statuses = [];

  function say(status, text) {
    statuses.forEach(function (other) { other.textContent = ''; });
    status.textContent = text;
  }

  function selectBox(box, status) {
    // No clipboard here (an old browser, or a page not served over https):
    // leave the text selected for the visitor to copy with the keyboard.
    box.focus();
    box.select();
    say(status, 'Selected: press Ctrl+C (or Cmd+C on a Mac) to copy.');
  }

  function copy(button, box, status) {
    if (!navigator.clipboard || !window.isSecureContext) {
      selectBox(box, status);
      return;
    }
    navigator.clipboard.writeText(box.value).then(
      function () { say(status, 'Copied'); },
      function () { selectBox(box, status); }
    );
  }

  function setUp() {
    var buttons = document.querySelectorAll('button[data-copy]');
    Array.prototype.forEach.call(buttons, function (button) {
      var box = document.getElementById(button.getAttribute('data-copy'));
      var status = document.getElementById(button.getAttribute('data-copy') + '-status');
      if (!box || !status) return;
      statuses.push(status);
      button.addEventListener('click', function () { copy(button, box, status); });
      button.hidden = false;
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', setUp);
  } else {
    setUp();
  }
}());
