// A blog in Preact with hooks: an article set in web fonts from @fontsource (bundled, no CDN),
// a comment form, and a comment list that grows as comments are posted.
import "@fontsource/lora/latin-400.css";
import "@fontsource/lora/latin-700.css";
import "@fontsource/lora/latin-400-italic.css";
import "@fontsource/inter/latin-400.css";
import "@fontsource/inter/latin-600.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

const paragraphs = [
  "The ridge path leaves the village behind the old mill and climbs through beech woods for the first hour. Markers are painted on the trunks in red and white; where the woods thin out they move to the rocks.",
  "Past the shepherd's hut the gradient eases. This is the place to refill bottles: the spring beside the hut runs all summer, and there is no other water until the far side of the pass.",
  "The last stretch to the saddle is steep scree. Take it slowly, keep to the cairns, and look back now and then: on a clear morning the whole valley opens up below, with the lake like a dropped coin.",
  "From the saddle two paths lead down. The left one is shorter but crosses a snowfield into early July; the right one loops past the tarns and adds forty minutes that nobody has ever regretted.",
];

const initial = [
  { id: 1, author: "Marta", text: "Did this in June: the snowfield was still there, take the right-hand path." },
  { id: 2, author: "Kofi", text: "The spring by the hut was running well in late August." },
];

function Comments() {
  const [comments, setComments] = useState(initial);
  const [draft, setDraft] = useState({ author: "", email: "", text: "" });
  const [notice, setNotice] = useState("");
  const field = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  const post = (e) => {
    e.preventDefault();
    setComments([...comments, { id: comments.length + 1, author: draft.author, text: draft.text }]);
    setNotice(`Thanks! We will email ${draft.email} when someone replies.`);
    setDraft({ author: "", email: "", text: "" });
  };
  return (
    <section class="comments" id="comments">
      <h2>{comments.length} comments</h2>
      <ol>
        {comments.map((c) => (
          <li key={c.id} id={`comment-${c.id}`}>
            <strong>{c.author}</strong>
            <p>{c.text}</p>
          </li>
        ))}
      </ol>
      {notice && <p class="notice" id="notice">{notice}</p>}
      <form onSubmit={post} id="comment-form">
        <label>Name<input id="c-name" required value={draft.author} onInput={field("author")} /></label>
        <label>Email (not published)<input id="c-email" type="email" required value={draft.email} onInput={field("email")} /></label>
        <label class="wide">Comment<textarea id="c-text" rows="4" required value={draft.text} onInput={field("text")} /></label>
        <button id="c-post">Post comment</button>
      </form>
    </section>
  );
}

function Article() {
  const [fonts, setFonts] = useState("loading");
  useEffect(() => {
    // Ready once every face the page uses is loaded, so a checkpoint never sees a fallback.
    const faces = ["400 18px Lora", "700 18px Lora", "italic 400 18px Lora", "400 16px Inter", "600 16px Inter"];
    Promise.all(faces.map((f) => document.fonts.load(f))).then(() => setFonts("ready"));
  }, []);
  return (
    <article id="article" data-fonts={fonts}>
      <p class="kicker">Trail notes · 12 minute read</p>
      <h1>Over the Col de Vache in a day</h1>
      <p class="byline"><em>by Ines Duarte, photographs by the author</em></p>
      <picture id="hero">
        <source media="(min-width: 1000px)" srcset="img/hero-wide.svg" />
        <img src="img/hero-narrow.svg" srcset="img/hero-narrow.svg 1x, img/hero-narrow-2x.svg 2x" alt="The ridge above the lake at dawn" width="880" height="300" />
      </picture>
      {paragraphs.map((p, i) => <p key={i}>{p}</p>)}
      <blockquote>“Keep to the cairns, and look back now and then.”</blockquote>
    </article>
  );
}

function App() {
  return (
    <>
      <header class="masthead">
        <span class="logo">Switchback</span>
        <nav><a href="#article">Stories</a><a href="#comments">Discussion</a></nav>
      </header>
      <main>
        <Article />
        <aside class="embed">
          <h2>Video: the descent by the tarns</h2>
          {/* A third-party player in a sandbox without allow-same-origin: an opaque, cross-origin frame. */}
          <iframe id="player" sandbox="allow-scripts" src="embed.html" width="560" height="315" title="Descent by the tarns" />
        </aside>
        <Comments />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app"));
