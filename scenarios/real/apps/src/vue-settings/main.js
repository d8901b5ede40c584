// An account-settings app in Vue 3 (full build: templates compiled in the browser from strings):
// a profile with private contact details, preferences with range/color/date inputs and a
// <select multiple>, and an invite form styled by the form-validation pseudo-classes.
import { createApp, computed, reactive, ref } from "vue";

const Profile = {
  props: ["user", "compact"],
  data: () => ({ editing: false, draft: "" }),
  methods: {
    edit() {
      this.draft = this.user.phone;
      this.editing = true;
    },
    save() {
      this.user.phone = this.draft.trim();
      this.editing = false;
    },
  },
  template: `
    <section class="profile" id="profile">
      <div class="profile-card">
        <div class="avatar">{{ user.initials }}</div>
        <div class="facts">
          <h2 id="profile-name">{{ user.name }}</h2>
          <dl>
            <dt>Email</dt><dd id="profile-email">{{ user.email }}</dd>
            <dt>Phone</dt>
            <dd v-if="!editing" id="profile-phone">{{ user.phone }}
              <button type="button" class="edit" id="edit-phone" @click="edit">Edit</button></dd>
            <dd v-else class="editing">
              <input id="phone-input" type="tel" v-model="draft" @keydown.enter="save">
              <button type="button" id="save-phone" @click="save">Save</button>
            </dd>
            <dt>Member since</dt><dd>{{ user.since }}</dd>
          </dl>
        </div>
      </div>
      <ul class="badges">
        <li v-for="b in user.badges" :key="b.name" :class="{ earned: b.earned }">
          <label><input type="checkbox" :checked="b.earned" disabled> {{ b.name }}</label>
        </li>
      </ul>
    </section>`,
};

const Preferences = {
  props: ["prefs"],
  template: `
    <section class="prefs" id="prefs">
      <form class="pref-form" @submit.prevent>
        <label class="pref-row">Text size <output id="size-out">{{ prefs.size }} px</output>
          <input id="size" type="range" min="12" max="28" step="1" v-model.number="prefs.size">
        </label>
        <label class="pref-row">Accent colour
          <input id="accent" type="color" v-model="prefs.accent">
        </label>
        <label class="pref-row">Away from
          <input id="away-from" type="date" v-model="prefs.from" min="2030-01-01" max="2031-12-31">
        </label>
        <label class="pref-row">Away until
          <input id="away-until" type="date" v-model="prefs.until" min="2030-01-01" max="2031-12-31">
        </label>
        <label class="pref-row">Notify me by
          <select id="channels" multiple size="5" v-model="prefs.channels">
            <option v-for="c in channels" :key="c" :value="c">{{ c }}</option>
          </select>
        </label>
        <label class="pref-row toggle"><input id="digest" type="checkbox" v-model="prefs.digest"> Weekly digest</label>
      </form>
      <div class="preview" id="preview" :style="{ '--accent': prefs.accent, fontSize: prefs.size + 'px' }">
        <h3>Preview</h3>
        <p>Away {{ away }}.</p>
        <p>Notifications: <span v-for="c in prefs.channels" :key="c" class="chip">{{ c }}</span>
          <em v-if="!prefs.channels.length">none</em></p>
        <button type="button">Accent button</button>
      </div>
    </section>`,
  data: () => ({ channels: ["Email", "SMS", "Push", "Slack", "Weekly call"] }),
  computed: {
    away() {
      const { from, until } = this.prefs;
      if (!from || !until) return "dates not set";
      const days = Math.round((Date.parse(until) - Date.parse(from)) / 86400000) + 1;
      return `from ${from} to ${until} (${days} days)`;
    },
  },
};

const Invite = {
  template: `
    <section class="invite" id="invite">
      <form class="invite-form" novalidate @submit.prevent="send">
        <label>Colleague's email
          <input id="inv-email" type="email" required placeholder="name@company.com" v-model="email">
        </label>
        <label>Seats (1 to 20)
          <input id="inv-seats" type="number" min="1" max="20" v-model="seats">
        </label>
        <label>Role
          <select id="inv-role" required v-model="role">
            <option value="" disabled>Choose a role</option>
            <option>Viewer</option><option>Editor</option><option>Admin</option>
          </select>
        </label>
        <label class="terms"><input id="inv-terms" type="checkbox" required v-model="terms"> The colleague agrees to the terms</label>
        <button id="inv-send">Send invite</button>
      </form>
      <p class="sent" id="inv-sent" v-if="sent">Invite sent ({{ sent }} seats).</p>
    </section>`,
  data: () => ({ email: "", seats: "1", role: "", terms: false, sent: 0 }),
  methods: {
    send(e) {
      if (e.target.checkValidity()) this.sent = Number(this.seats);
    },
  },
};

const App = {
  components: { Profile, Preferences, Invite },
  setup() {
    const tab = ref("profile");
    const compact = ref(false);
    const user = reactive({
      name: "Priya Raman",
      initials: "PR",
      email: "priya.raman@acme-mail.com",
      phone: "+1 415 555 0134",
      since: "March 2019",
      badges: [
        { name: "Early adopter", earned: true },
        { name: "Ten projects", earned: true },
        { name: "Team lead", earned: false },
      ],
    });
    const prefs = reactive({ size: 16, accent: "#3867d6", from: "", until: "", channels: ["Email"], digest: false });
    const title = computed(() => ({ profile: "Profile", prefs: "Preferences", invite: "Invite a colleague" })[tab.value]);
    return { tab, compact, user, prefs, title };
  },
  template: `
    <div class="layout" :class="{ compact }">
      <aside class="sidebar">
        <button id="toggle-sidebar" class="collapse" @click="compact = !compact">{{ compact ? "»" : "« Collapse" }}</button>
        <nav>
          <a href="#" id="tab-profile" :aria-current="tab === 'profile' ? 'page' : null" @click.prevent="tab = 'profile'">Profile</a>
          <a href="#" id="tab-prefs" :aria-current="tab === 'prefs' ? 'page' : null" @click.prevent="tab = 'prefs'">Preferences</a>
          <a href="#" id="tab-invite" :aria-current="tab === 'invite' ? 'page' : null" @click.prevent="tab = 'invite'">Invite</a>
        </nav>
      </aside>
      <main class="content">
        <h1 id="title">{{ title }}</h1>
        <Profile v-if="tab === 'profile'" :user="user" :compact="compact" />
        <Preferences v-else-if="tab === 'prefs'" :prefs="prefs" />
        <Invite v-else />
      </main>
    </div>`,
};

createApp(App).mount("#app");
