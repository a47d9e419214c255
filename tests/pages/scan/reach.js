// What tests/pages/scan/reach.html does, from the shop's origin (a service
// worker's script must come from there). The query names the canary's ports:
// `canary` answers requests, `quiet` is only ever preconnected to.
(function () {
  var query = new URLSearchParams(location.search);
  var host = "canary.shop.test:";
  var canary = "http://" + host + query.get("canary");
  if (self.document === undefined) {
    // Run as a worker (dedicated, shared or service): one request each.
    fetch(canary + "/hit?" + query.get("as"));
    return;
  }
  var here = "/scan/reach.js?canary=" + query.get("canary") + "&as=";
  new Image().src = canary + "/hit";
  new Image().src = "/scan/away?to=" + encodeURIComponent(canary + "/hit?redirect");
  navigator.sendBeacon(canary + "/hit?beacon", "x");
  new EventSource(canary + "/hit?events");
  window.open(canary + "/hit?popup");
  new Worker(here + "worker");
  new SharedWorker(here + "sharedworker");
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register(here + "serviceworker", {scope: "/scan/"});
  }
  var preconnect = document.createElement("link");
  preconnect.rel = "preconnect";
  preconnect.href = "http://" + host + query.get("quiet");
  document.head.appendChild(preconnect);
  var frame = document.createElement("iframe");
  frame.src = canary + "/hit?frame";
  document.head.appendChild(frame);
  try {
    new WebSocket("ws://" + host + query.get("canary") + "/hit?socket");
  } catch (e) {}
  try {
    var peer = new RTCPeerConnection({iceServers: [
      {urls: "turn:" + host + query.get("canary") + "?transport=tcp",
       username: "u", credential: "c"},
      {urls: "stun:127.0.0.1:" + query.get("udp")}]});
    peer.createDataChannel("d");
    peer.createOffer().then(function (offer) {
      return peer.setLocalDescription(offer);
    });
  } catch (e) {}
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("away");
    form.action = canary + "/hit?form";
    form.submit();
  });
})();
