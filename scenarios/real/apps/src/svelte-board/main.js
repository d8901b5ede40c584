// A task board in Svelte 5 (runes), compiled by svelte/compiler at build time.
import { mount } from "svelte";
import App from "./App.svelte";

mount(App, { target: document.getElementById("app") });
