// "Go back": return to the page the reader came from when it is on this site;
// without JavaScript, or when opened directly, the link leads to the section.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-go-back]");
  if (!link || event.defaultPrevented || event.button !== 0 ||
      event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  var referrer = document.referrer;
  if (referrer && new URL(referrer).origin === window.location.origin && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});
