// posenet and tf-backend-wasm are UMD bundles that attach to window.tf; pointing it at ml5's copy
// keeps a single TF.js instance (and a single backend registry) on the page.
window.tf = window.ml5.tf;
