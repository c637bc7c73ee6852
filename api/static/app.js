// Enhancement only: lets the site open the offline page (with the crisis line) without a network.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => {});
}
