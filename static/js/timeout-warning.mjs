// The GOV.UK timeout warning: shortly before the idle session limit, a modal dialog offers
// "Stay signed in" (which asks the server to restart the idle clock) and "Sign out".
// The dialog is native <dialog> opened with showModal(): the rest of the page is inert, so
// the keyboard and a screen reader stay in it; focus moves to "Stay signed in", and
// Escape means "stay". Timings come from the dialog's data attributes (Django settings
// SESSION_COOKIE_AGE and SESSION_TIMEOUT_WARNING, in seconds).

const dialog = document.querySelector("[data-module='app-timeout-warning']");

function inWords(milliseconds) {
  const seconds = Math.max(0, Math.ceil(milliseconds / 1000));
  if (seconds >= 60) {
    const minutes = Math.ceil(seconds / 60);
    return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  }
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}

if (dialog && typeof dialog.showModal === "function") {
  const timeout = Number(dialog.dataset.timeout) * 1000;
  const warning = Number(dialog.dataset.warning) * 1000;
  const keepAliveUrl = dialog.dataset.keepAliveUrl;
  const countdown = dialog.querySelector(".app-timeout-dialog__countdown");
  const heading = dialog.querySelector("#app-timeout-dialog-heading");
  const text = dialog.querySelector("#app-timeout-dialog-text");
  const stayButton = dialog.querySelector("[data-timeout-stay]");
  const original = {
    heading: heading.textContent,
    text: Array.from(text.childNodes),
    stay: stayButton.textContent,
  };
  const announcement = dialog.querySelector("[data-timeout-announcement]");
  let deadline = 0;
  let openTimer = null;
  let tickTimer = null;
  let returnFocusTo = null;
  let lastAnnounced = "";

  const schedule = () => {
    clearTimeout(openTimer);
    deadline = Date.now() + timeout;
    openTimer = setTimeout(open, Math.max(0, timeout - warning));
  };

  const tick = () => {
    const left = deadline - Date.now();
    const words = inWords(left);
    countdown.textContent = words;
    // Screen readers hear the time left when it changes minute by minute, then every
    // 15 seconds in the last minute: every second would drown the buttons out.
    const step = left > 60000 ? words : inWords(Math.ceil(left / 15000) * 15000);
    if (step !== lastAnnounced) {
      lastAnnounced = step;
      announcement.textContent = `We will sign you out in ${step}.`;
    }
    if (left <= 0) {
      clearInterval(tickTimer);
      // Too late to stay: say so, and let the user close the dialog and save, which takes
      // them to sign in and back to the form with what they typed (csp/kept_input.py).
      heading.textContent = "You have been signed out";
      text.textContent =
        "Your session has ended. What you typed is not lost: press the form's button, sign in " +
        "again, and you will be taken back to it.";
      stayButton.textContent = "Continue";
      announcement.textContent = "";
    }
  };

  const open = () => {
    heading.textContent = original.heading;
    text.replaceChildren(...original.text);
    stayButton.textContent = original.stay;
    returnFocusTo = document.activeElement;
    lastAnnounced = "";
    tick();
    dialog.showModal();
    stayButton.focus();
    tickTimer = setInterval(tick, 1000);
  };

  const stay = async () => {
    clearInterval(tickTimer);
    if (dialog.open) dialog.close();
    if (returnFocusTo && typeof returnFocusTo.focus === "function") returnFocusTo.focus();
    try {
      const response = await fetch(keepAliveUrl, {
        credentials: "same-origin",
        redirect: "manual",
        cache: "no-store",
      });
      // 204: still signed in, and the idle clock starts again. Anything else (the session
      // has ended): nothing to extend; a form posted now is kept across signing in.
      if (response.status === 204) schedule();
    } catch {
      schedule(); // offline for a moment: warn again rather than never
    }
  };

  stayButton.addEventListener("click", stay);
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape: stay signed in, as the pattern asks
    stay();
  });
  schedule();
}
