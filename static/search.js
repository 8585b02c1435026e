// Search page: the form and the results, drawn in the browser from the Pagefind index, built with the
// site in shards under /pagefind/<lang>/<period>/ and listed, newest first, in /pagefind/shards.json.
// The newest shard of the page's language is Pagefind's primary index; the others are merged into it
// (mergeIndex), so one query searches them all and ranks their results in one list.
// Without JavaScript, or without an index, the page keeps its plain message and archive link.
(function () {
  "use strict";

  var PAGE_SIZE = 20;
  // Pagefind ranks with BM25: a page's score is the word's rarity in its index (IDF) times how often the
  // page has it. Each shard measures rarity among its own pages, so a word rare in one shard lifts all of
  // that shard's pages above better matches elsewhere. Weighing by the count of the word on the page
  // (termFrequency 0) lets that count decide: the sharded top 10 then matches a single index's far better
  // (docs/reference.md, "Ranking across shards"). Every merged index needs it too: options() sets only the primary.
  function settings() {
    return { excerptLength: 30, ranking: { termFrequency: 0, termSimilarity: TERM_SIMILARITY } };
  }
  function marked(shard) {
    // A filter Pagefind gives every page of the shard: its name (see withoutFallbacks).
    return { mergeFilter: { shard: shard } };
  }
  // Pagefind looks a word up in each shard on its own, and a shard that has no word beginning with it falls
  // back to the longest beginning of the word that it does have: "Afghanistan" finds every "a" of a shard
  // without Afghanistan. One index over all the pages would fall back only where no page has the word. So
  // for each shard that answers, the first result's matched words are measured against the query's words:
  // a shard is kept for a word where it matched the word's stem exactly (Pagefind's length bonus for an
  // index word neither longer nor shorter than the stem), or matched as much of the word as the best shard.
  // docs/reference.md, "Words one shard lacks".
  var TERM_SIMILARITY = 1;
  var EXACT_BONUS = Math.exp(TERM_SIMILARITY * Math.exp(-1 / 8)) / Math.exp(TERM_SIMILARITY);

  var FILTERS = ["section", "year", "official", "organization"];
  var root = document.getElementById("search");
  if (!root) {
    return;
  }
  var fallback = document.getElementById("search-fallback");
  var form = root.querySelector("form");
  var query = document.getElementById("search-query");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var lang = document.documentElement.lang;
  var forms = JSON.parse(root.dataset.results);
  // The build's order of each filter's choices, the pages' own (ё beside е, Cyrillic names first in Russian).
  var order = JSON.parse(root.dataset.order);
  var pagefind = null;
  var results = [];
  var shown = 0;
  var generation = 0;
  var typing = 0;
  var lastKey = null;

  function plural(n) {
    // The same rule as the site's counts: English two forms, Russian three.
    var form;
    if (lang === "ru" && forms.length === 3) {
      if (n % 10 === 1 && n % 100 !== 11) {
        form = forms[0];
      } else if (n % 10 >= 2 && n % 10 <= 4 && !(n % 100 >= 12 && n % 100 <= 14)) {
        form = forms[1];
      } else {
        form = forms[2];
      }
    } else {
      form = n === 1 ? forms[0] : forms[forms.length - 1];
    }
    return n + " " + form;
  }

  function select(name) {
    return root.querySelector('select[data-filter="' + name + '"]');
  }

  function chosenFilters() {
    var chosen = {};
    FILTERS.forEach(function (name) {
      var value = select(name).value;
      if (value) {
        chosen[name] = value;
      }
    });
    return chosen;
  }

  function rank(known, value) {
    var index = known.indexOf(value);
    return index < 0 ? known.length : index;
  }

  function fillFilters(available, wanted) {
    FILTERS.forEach(function (name) {
      var values = Object.keys(available[name] || {});
      var known = order[name] || [];
      values.sort(name === "year" ? function (a, b) { return b.localeCompare(a); }
                                  : function (a, b) { return rank(known, a) - rank(known, b) || a.localeCompare(b, lang); });
      var element = select(name);
      values.forEach(function (value) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        element.appendChild(option);
      });
      element.value = values.indexOf(wanted.get(name)) >= 0 ? wanted.get(name) : "";
    });
  }

  function excerpt(html) {
    // Keep only the text and Pagefind's <mark> highlights of an excerpt: no markup from the index runs.
    var parsed = new DOMParser().parseFromString(html, "text/html").body;
    var paragraph = document.createElement("p");
    paragraph.className = "summary search-excerpt";
    parsed.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        paragraph.appendChild(mark);
      } else {
        paragraph.appendChild(document.createTextNode(node.textContent));
      }
    });
    return paragraph;
  }

  function resultItem(data) {
    var item = document.createElement("li");
    item.className = "teaser search-result";
    var heading = document.createElement("h2");
    heading.className = "teaser-title";
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = data.meta.title || data.url;
    heading.appendChild(link);
    item.appendChild(heading);
    var meta = document.createElement("p");
    meta.className = "meta";
    var time = document.createElement("time");
    time.dateTime = data.meta.published || "";
    time.textContent = data.meta.date || "";
    meta.appendChild(time);
    if (data.meta.section) {
      meta.appendChild(document.createTextNode(" · "));
      var section = document.createElement("a");
      section.href = data.meta.section_url || "";
      section.textContent = data.meta.section;
      meta.appendChild(section);
    }
    item.appendChild(meta);
    item.appendChild(excerpt(data.excerpt));
    return item;
  }

  async function showMore(current, fresh) {
    // Fetch the next page of results, then draw it in one step: the list never flickers empty.
    var batch = results.slice(shown, shown + PAGE_SIZE);
    var data = await Promise.all(batch.map(function (result) { return result.data(); }));
    if (current !== generation) {
      return;
    }
    var items = data.map(resultItem);
    if (fresh) {
      list.replaceChildren.apply(list, items);
    } else {
      items.forEach(function (item) { list.appendChild(item); });
      // Keyboard and screen-reader users continue at the first result just added.
      if (items.length) {
        items[0].querySelector("a").focus();
      }
    }
    shown += batch.length;
    more.hidden = shown >= results.length;
  }

  function normal(word) {
    // Letters and digits only, without accents, as both the query's words and the pages' words are compared.
    return word.toLowerCase().normalize("NFD").replace(/[^\p{L}\p{N}]/gu, "");
  }

  function shared(a, b) {
    var n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) {
      n++;
    }
    return n;
  }

  async function matchOf(terms, result) {
    // For each query word: how much of it the result's matched words share, and whether one is its stem.
    var reach = terms.map(function () { return { shared: 0, exact: false }; });
    if (!result) {
      return reach;
    }
    var data = await result.data();
    var words = data.content.split(/[\r\n\s]+/g);
    data.weighted_locations.forEach(function (location) {
      var word = normal(words[location.location] || "");
      var lengths = terms.map(function (term) { return shared(term, word); });
      var best = lengths.indexOf(Math.max.apply(null, lengths));
      var weight = location.weight * 24; // Pagefind's own weight (its API divides it by 24)
      var exact = Math.abs(location.balanced_score / (weight * weight) - EXACT_BONUS) < 1e-3;
      reach[best].shared = Math.max(reach[best].shared, lengths[best]);
      reach[best].exact = reach[best].exact || exact;
    });
    return reach;
  }

  async function withoutFallbacks(term, chosen, found) {
    // The results of `found`, without those of shards that fell back to a shorter word (see settings).
    var terms = term.split(/\s+/).map(normal).filter(Boolean);
    var counts = (found.filters && found.filters.shard) || {};
    var names = Object.keys(counts).filter(function (name) { return counts[name] > 0; });
    if (names.length < 2 || terms.length === 0 || term.indexOf('"') >= 0) {
      return found.results; // one shard answers as one index would; a "phrase" never falls back
    }
    var reached = await Promise.all(names.map(async function (name) {
      var one = await pagefind.search(term, { filters: Object.assign({}, chosen, { shard: name }) });
      return matchOf(terms, one.results[0]);
    }));
    var kept = names.filter(function (name, i) {
      return terms.every(function (_, j) {
        var most = Math.max.apply(null, reached.map(function (r) { return r[j].shared; }));
        return reached[i][j].exact || reached[i][j].shared === most;
      });
    });
    if (kept.length === names.length) {
      return found.results;
    }
    if (kept.length === 0) {
      return []; // each word only where another fell back: no page has them all, as one index would say
    }
    var filters = Object.assign({}, chosen, { shard: { any: kept } });
    return (await pagefind.search(term, { filters: filters })).results;
  }

  function remember(term, chosen) {
    var params = new URLSearchParams();
    if (term) {
      params.set("q", term);
    }
    Object.keys(chosen).forEach(function (name) { params.set(name, chosen[name]); });
    var search = params.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  async function run() {
    var term = query.value.trim();
    var chosen = chosenFilters();
    var key = JSON.stringify([term, chosen]);
    window.clearTimeout(typing);
    if (key === lastKey) {
      return;
    }
    lastKey = key;
    var current = ++generation;
    remember(term, chosen);
    results = [];
    shown = 0;
    if (!term && Object.keys(chosen).length === 0) {
      list.replaceChildren();
      more.hidden = true;
      status.textContent = "";
      return;
    }
    var found = await pagefind.search(term || null, { filters: chosen });
    if (current !== generation || found === null) {
      return;
    }
    results = term ? await withoutFallbacks(term, chosen, found) : found.results;
    if (current !== generation) {
      return;
    }
    if (results.length === 0) {
      list.replaceChildren();
      more.hidden = true;
      status.textContent = root.dataset.none;
      return;
    }
    await showMore(current, true);
    status.textContent = plural(results.length) + (term ? " " + root.dataset.for.replace("%s", term) : "");
  }

  function unavailable(error) {
    root.hidden = true;
    fallback.hidden = false;
    document.getElementById("search-fallback-reason").textContent = root.dataset.unavailable;
    if (window.console) {
      window.console.error("search: the Pagefind index did not load", error);
    }
  }

  async function start() {
    fallback.hidden = true;
    root.hidden = false;
    status.textContent = root.dataset.loading;
    var wanted = new URLSearchParams(window.location.search);
    query.value = wanted.get("q") || "";
    var bundle = new URL(root.dataset.bundle, window.location.href);
    var listed = await fetch(new URL("shards.json", bundle));
    if (!listed.ok) {
      throw new Error("no list of search shards: " + listed.status);
    }
    // As paths, not whole URLs: Pagefind prefixes a merged index's result URLs with what it is given.
    var names = (await listed.json())[lang] || [];
    var shards = names.map(function (name) {
      return new URL(lang + "/" + name + "/", bundle).pathname;
    });
    if (shards.length === 0) {
      throw new Error("no search shard for the language " + lang);
    }
    pagefind = await import(shards[0] + "pagefind.js");
    await pagefind.options(settings());
    await pagefind.init();
    await pagefind.options(marked(names[0]));
    await Promise.all(shards.slice(1).map(function (shard, i) {
      return pagefind.mergeIndex(shard, Object.assign(settings(), marked(names[i + 1])));
    }));
    fillFilters(await pagefind.filters(), wanted);
    status.textContent = "";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run();
    });
    query.addEventListener("input", function () {
      // Wait for a pause in typing, so the status line is not re-announced on every key.
      window.clearTimeout(typing);
      typing = window.setTimeout(run, 300);
    });
    FILTERS.forEach(function (name) { select(name).addEventListener("change", run); });
    more.addEventListener("click", function () { showMore(generation, false); });
    root.dataset.ready = "true";
    await run();
  }

  start().catch(unavailable);
})();
