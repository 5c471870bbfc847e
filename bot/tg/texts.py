"""Interface strings of the Telegram bot, German first, English second.

All strings are plain text (the handlers escape them for Telegram's HTML mode). Placeholders use
``str.format`` names, e.g. ``{days}``.
"""

from __future__ import annotations

from bot.knowledge.model import Text

# --------------------------------------------------------------------------------------- welcome & help

WELCOME = Text(
    "Hallo! Ich bin der FAQ-Bot der Stadtverwaltung Konstanz zur Neuorganisation rund um das neue "
    "Amt für Digitalisierung.\n\n"
    "Stellen Sie mir Ihre Frage einfach als Nachricht, zum Beispiel: „Wann wechselt die Schul-IT?“ "
    "Oder stöbern Sie mit /themen durch alle Themen.",
    "Hello! I'm the FAQ bot of the City of Konstanz about the reorganisation around the new "
    "Office for Digitalisation (Amt für Digitalisierung).\n\n"
    "Just send me your question, for example: “When does school IT move?” "
    "Or browse all topics with /themen.",
)
WELCOME_PRIVACY = Text(
    "Ihre Fragen werden ohne Ihre Nutzerkennung gespeichert – Details mit /datenschutz.",
    "Your questions are stored without your user id – details with /datenschutz.",
)
HELP = Text(
    "So funktioniere ich:\n"
    "• Schreiben Sie Ihre Frage einfach als Nachricht.\n"
    "• /themen – alle Themen und Fragen durchsehen\n"
    "• /meilensteine – Zeitplan der Neuorganisation mit aktuellem Stand\n"
    "• /sprache – Deutsch oder Englisch\n"
    "• /datenschutz – was ich speichere und wie lange\n"
    "• /vergessen – Ihre gespeicherte Spracheinstellung löschen\n\n"
    "In Gruppen antworte ich nur, wenn Sie mich direkt ansprechen: mit /frage <Ihre Frage>, "
    "mit @{username} <Ihre Frage> oder als Antwort auf eine meiner Nachrichten.\n"
    "In jedem Chat können Sie außerdem @{username} <Stichwort> tippen und eine Antwort auswählen.\n\n"
    "Meine Antworten stammen aus geprüften Quellen; jede Antwort nennt ihre Quelle und ihren Stand.",
    "How I work:\n"
    "• Just send your question as a message.\n"
    "• /themen – browse all topics and questions\n"
    "• /meilensteine – timeline of the reorganisation with its current status\n"
    "• /sprache – German or English\n"
    "• /datenschutz – what I store and for how long\n"
    "• /vergessen – delete your stored language preference\n\n"
    "In groups I only answer when addressed directly: with /frage <your question>, "
    "with @{username} <your question> or as a reply to one of my messages.\n"
    "In any chat you can also type @{username} <keyword> and pick an answer.\n\n"
    "My answers come from checked sources; every answer names its source and its date.",
)
ADMIN_HELP = Text(
    "Redaktion: /reload (Wissensbasis neu laden), /stats [Tage], /unbeantwortet [Tage], "
    "/ankuendigen <Meilenstein> (an abonnierte Gruppen)",
    "Editors: /reload (reload the knowledge), /stats [days], /unbeantwortet [days], "
    "/ankuendigen <milestone> (to subscribed groups)",
)

# ---------------------------------------------------------------------------------------------- questions

ASK_SHORTER = Text(
    "Ihre Nachricht ist mit {length} Zeichen leider zu lang für mich. Bitte stellen Sie Ihre Frage kürzer "
    "(höchstens {limit} Zeichen), am besten in einem Satz.",
    "Your message has {length} characters, which is too long for me. Please ask a shorter question "
    "(at most {limit} characters), ideally in one sentence.",
)
TEXT_ONLY = Text(
    "Ich kann leider nur Textnachrichten lesen – bitte schreiben Sie mir Ihre Frage.",
    "Sorry, I can only read text messages – please type your question.",
)
UNKNOWN_COMMAND = Text(
    "Diesen Befehl kenne ich nicht. Eine Übersicht gibt es mit /hilfe.",
    "I don't know that command. See /help for an overview.",
)
FRAGE_USAGE = Text(
    "Bitte stellen Sie die Frage direkt hinter dem Befehl, zum Beispiel: /frage Wann wechselt die Schul-IT?",
    "Please put your question right after the command, for example: /frage When does school IT move?",
)
MENTION_USAGE = Text(
    "Ja? Stellen Sie Ihre Frage direkt mit, zum Beispiel: @{username} Wann wechselt die Schul-IT?",
    "Yes? Ask your question along with it, for example: @{username} When does school IT move?",
)
SORRY_ERROR = Text(
    "Entschuldigung, da ist bei mir etwas schiefgegangen. Bitte versuchen Sie es gleich noch einmal.",
    "Sorry, something went wrong on my side. Please try again in a moment.",
)
NOT_ALLOWED = Text(
    "Dieser Bot ist nur für Mitarbeitende der Stadtverwaltung Konstanz freigeschaltet. "
    "Bitte wenden Sie sich an das Amt für Digitalisierung, wenn Sie Zugang brauchen.",
    "This bot is only enabled for employees of the City of Konstanz administration. "
    "Please contact the Office for Digitalisation if you need access.",
)

# ------------------------------------------------------------------------------------------------ buttons

BTN_HELPFUL = Text("👍 Hilfreich", "👍 Helpful")
BTN_NOT_HELPFUL = Text("👎 Nicht hilfreich", "👎 Not helpful")
BTN_BROWSE = Text("📚 Themen durchsehen", "📚 Browse topics")
BTN_BACK_TOPICS = Text("« Alle Themen", "« All topics")
BTN_PREV = Text("‹ Zurück", "‹ Back")
BTN_NEXT = Text("Weiter ›", "Next ›")
BTN_OPEN_CHAT = Text("Im Chat mit dem Bot öffnen", "Open in the chat with the bot")
BTN_ASK_IN_CHAT = Text("Frage im Chat mit dem Bot stellen", "Ask in the chat with the bot")

# ------------------------------------------------------------------------------------------------ browsing

TOPICS_TITLE = Text("Themen", "Topics")
TOPICS_PROMPT = Text("Wählen Sie ein Thema:", "Choose a topic:")
TOPIC_PROMPT = Text("Wählen Sie eine Frage:", "Choose a question:")
PAGE = Text("Seite {page} von {pages}", "page {page} of {pages}")
NO_TOPICS = Text("Zurzeit sind keine Themen hinterlegt.", "There are no topics at the moment.")

# ---------------------------------------------------------------------------------------------- callbacks

CB_INVALID = Text(
    "Diese Schaltfläche ist nicht mehr gültig. Stellen Sie Ihre Frage gern neu.",
    "This button is no longer valid. Feel free to ask your question again.",
)
CB_STALE = Text(
    "Dieser Eintrag wurde inzwischen überarbeitet. Bitte stellen Sie Ihre Frage neu oder nutzen Sie /themen.",
    "This entry has been revised in the meantime. Please ask again or use /themen.",
)
FEEDBACK_THANKS = Text("Danke für Ihre Rückmeldung!", "Thank you for your feedback!")
FEEDBACK_DUPLICATE = Text("Ihre Rückmeldung ist schon gespeichert.", "Your feedback has already been recorded.")

# -------------------------------------------------------------------------------------------- milestones

MILESTONES_TITLE = Text("Zeitplan der Neuorganisation", "Timeline of the reorganisation")
NO_MILESTONES = Text("Es sind noch keine Meilensteine hinterlegt.", "No milestones have been recorded yet.")

# ------------------------------------------------------------------------------------------------ language

LANG_PROMPT = Text(
    "In welcher Sprache soll ich antworten? Ohne Auswahl richte ich mich nach Ihrer Frage.",
    "Which language should I answer in? Without a choice I follow the language of your question.",
)
LANG_SET = Text(
    "Alles klar, ich antworte Ihnen ab jetzt auf Deutsch. Löschen können Sie die Einstellung mit /vergessen.",
    "Got it, I'll answer you in English from now on. You can delete this setting with /vergessen.",
)
LANG_TOAST = Text("Deutsch eingestellt", "English selected")

# ------------------------------------------------------------------------------------------------- privacy

PRIVACY = Text(
    "Datenschutz – was ich speichere und wie lange\n\n"
    "• Fragen: der Text Ihrer Frage (höchstens 500 Zeichen), die erkannte Sprache, welche Antwort ich "
    "gegeben habe und ob die Frage aus einem privaten Chat oder einer Gruppe kam – ohne Ihre Nutzerkennung, "
    "ohne Chat-ID, ohne Namen. Diese Einträge lösche ich automatisch nach {days} Tagen. Die Redaktion nutzt "
    "sie für Statistiken und um fehlende Antworten zu ergänzen.\n"
    "• Rückmeldungen (👍/👎): die bewertete Antwort und der Wert. Damit niemand doppelt abstimmt, speichere "
    "ich dazu einen Einweg-Hash aus Nutzerkennung und Nachricht (mit geheimem Zufallsschlüssel); Ihre "
    "Kennung selbst wird nicht gespeichert. Auch das wird nach {days} Tagen gelöscht.\n"
    "• Sprache: wenn Sie mit /sprache eine Sprache wählen, speichere ich Ihre Nutzerkennung mit dieser "
    "Einstellung, bis Sie sie löschen.\n"
    "• Gruppen: für Gruppen, die Ankündigungen abonniert haben, speichere ich Chat-ID, Titel, Sprache und "
    "Themen, bis das Abo endet oder der Bot die Gruppe verlässt.\n"
    "• Telegram-Update-Nummern (ohne Inhalt) merke ich mir {days} Tage, damit keine Nachricht doppelt "
    "beantwortet wird.\n"
    "• Gelernte Formulierungen: Wenn die Redaktion eine unbeantwortete Frage als neue Formulierung zu einer "
    "Antwort übernimmt, bleibt deren Wortlaut (ohne jeden Bezug zu Ihnen) gespeichert, bis die Redaktion "
    "ihn entfernt.\n\n"
    "Löschen: /vergessen löscht sofort Ihre Spracheinstellung (und ein Abo Ihres privaten Chats). "
    "Die Fragen selbst enthalten keinen Bezug zu Ihnen und können daher nicht Ihnen zugeordnet werden.\n\n"
    "Bitte schreiben Sie keine personenbezogenen Daten (Namen, Telefonnummern, Personalnummern) in Ihre "
    "Fragen.",
    "Privacy – what I store and for how long\n\n"
    "• Questions: the text of your question (at most 500 characters), the detected language, which answer I "
    "gave and whether it came from a private chat or a group – without your user id, without chat id, "
    "without names. These rows are deleted automatically after {days} days. The editors use them for "
    "statistics and to add missing answers.\n"
    "• Feedback (👍/👎): the rated answer and the value. So that nobody votes twice I also store a one-way "
    "hash of user id and message (with a secret random key); your id itself is not stored. This is also "
    "deleted after {days} days.\n"
    "• Language: if you choose a language with /sprache, I store your user id with that setting until "
    "you delete it.\n"
    "• Groups: for groups subscribed to announcements I store chat id, title, language and topics until "
    "the subscription ends or the bot leaves the group.\n"
    "• Telegram update numbers (no content) are kept for {days} days so no message is answered twice.\n"
    "• Learned phrasings: when the editors adopt an unanswered question as a new phrasing of an answer, its "
    "wording (without any link to you) is kept until the editors remove it.\n\n"
    "Deleting: /vergessen immediately deletes your language preference (and a subscription of your private "
    "chat). The questions themselves contain no link to you and therefore cannot be attributed to you.\n\n"
    "Please do not put personal data (names, phone numbers, staff numbers) into your questions.",
)
FORGOTTEN = Text(
    "Erledigt: Ihre gespeicherte Spracheinstellung ist gelöscht.",
    "Done: your stored language preference has been deleted.",
)
NOTHING_TO_FORGET = Text(
    "Zu Ihrer Nutzerkennung ist nichts gespeichert – es gibt nichts zu löschen.",
    "Nothing is stored under your user id – there is nothing to delete.",
)

# --------------------------------------------------------------------------------------------------- admin

ADMIN_ONLY = Text(
    "Dieser Befehl ist der Redaktion vorbehalten.",
    "This command is reserved for the editors.",
)
RELOAD_OK = Text(
    "Wissensbasis neu geladen: Version {version}, {entries} Einträge.",
    "Knowledge reloaded: version {version}, {entries} entries.",
)
RELOAD_WARNINGS = Text("{count} Hinweise:", "{count} warnings:")
RELOAD_REFUSED = Text(
    "Neue Wissensbasis abgelehnt – es antwortet weiter Version {version} ({entries} Einträge). {count} Fehler:",
    "New knowledge refused – version {version} ({entries} entries) keeps answering. {count} errors:",
)
RELOAD_FAILED = Text(
    "Neuladen fehlgeschlagen ({error}). Es antwortet weiter Version {version}.",
    "Reload failed ({error}). Version {version} keeps answering.",
)
MORE_PROBLEMS = Text("… und {count} weitere", "… and {count} more")
STATS_TITLE = Text("Statistik {since} – {until} ({days} Tage)", "Statistics {since} – {until} ({days} days)")
STATS_TOTAL = Text("Fragen: {total}", "Questions: {total}")
STATS_RATES = Text(
    "Beantwortet {answer} · Rückfrage {clarify} · Nicht gewusst {fallback} · Smalltalk {smalltalk}",
    "Answered {answer} · Clarified {clarify} · Not known {fallback} · Small talk {smalltalk}",
)
STATS_PER_DAY = Text("Fragen pro Tag:", "Questions per day:")
STATS_TOP = Text("Häufigste Antworten:", "Most frequent answers:")
STATS_FEEDBACK = Text("Rückmeldungen: 👍 {up} · 👎 {down}", "Feedback: 👍 {up} · 👎 {down}")
STATS_KNOWLEDGE = Text(
    "Wissensbasis: Version {version}, {entries} Einträge, geladen {loaded}, {warnings} Hinweise",
    "Knowledge: version {version}, {entries} entries, loaded {loaded}, {warnings} warnings",
)
STATS_LEARNED = Text("Gelernte Formulierungen in Gebrauch: {count}", "Learned phrasings in use: {count}")
STATS_STALE = Text("Zu prüfen (review_by überschritten):", "Due for review (review_by passed):")
STALE_LINE = Text(
    "{kind} {id} – fällig seit {date}{owner} ({file}:{line})", "{kind} {id} – due since {date}{owner} ({file}:{line})"
)
STALE_KIND = {"entry": Text("Eintrag", "Entry"), "fact": Text("Fakt", "Fact")}
STALE_OWNER = Text(", zuständig: {owner}", ", owner: {owner}")
STALE_REMINDER = Text(
    "⏰ Bitte prüfen – bei diesen Inhalten ist das Prüfdatum (review_by) überschritten. Der Bot antwortet "
    "weiter damit (mit „Stand“-Datum):",
    "⏰ Please review – these items are past their review_by date. The bot still answers with them (showing "
    "their as-of date):",
)
STATS_NONE = Text("(keine)", "(none)")
UNANSWERED_SIMILAR = Text("ähnlich", "similar")
REVIEW_NONE = Text(
    "Nichts zu prüfen: in den letzten {days} Tagen blieb keine Frage offen (auch keine 👎).",
    "Nothing to review: no question was left open in the last {days} days (no 👎 either).",
)
REVIEW_TITLE = Text(
    "Offene Frage {index} von {total} (letzte {days} Tage)",
    "Open question {index} of {total} (last {days} days)",
)
REVIEW_TIMES = Text("{times}× gestellt, zuletzt {last}", "asked {times}×, last {last}")
REVIEW_KINDS = {
    "fallback": Text("ohne Antwort", "not answered"),
    "clarify": Text("Rückfrage ohne Auswahl", "clarify left without a pick"),
    "downvote": Text("👎 auf die Antwort", "👎 on the answer"),
}
REVIEW_DOWNVOTED = Text("👎 bekam die Antwort: {entries}", "👎 went to the answer: {entries}")
REVIEW_HINT = Text(
    "Passt die Frage zu einer vorhandenen Antwort? Dann als neue Formulierung übernehmen – sie wirkt sofort.",
    "Does the question fit an existing answer? Then adopt it as a new phrasing – it works at once.",
)
BTN_ATTACH = Text("➕ {title}", "➕ {title}")
BTN_SEARCH = Text("🔎 Anderer Eintrag …", "🔎 Other entry …")
BTN_DISMISS = Text("🗑 Verwerfen", "🗑 Dismiss")
REVIEW_SEARCH_PROMPT = Text(
    "Zu welchem Eintrag gehört „{question}“? Schicken Sie mir ein Stichwort (z. B. „Gründung“ oder eine Eintrags-ID).",
    "Which entry does “{question}” belong to? Send me a keyword (e.g. “founding” or an entry id).",
)
REVIEW_SEARCH_RESULTS = Text("Einträge zu „{term}“ – antippen zum Übernehmen:", "Entries for “{term}” – tap to adopt:")
REVIEW_SEARCH_NONE = Text(
    "Kein Eintrag passt zu „{term}“. Versuchen Sie ein anderes Stichwort oder /unbeantwortet.",
    "No entry matches “{term}”. Try another keyword or /unbeantwortet.",
)
REVIEW_LEARNED = Text(
    "✅ Übernommen: „{question}“ ist jetzt eine Formulierung von „{title}“ ({entry}) und wirkt sofort.",
    "✅ Adopted: “{question}” is now a phrasing of “{title}” ({entry}) and works at once.",
)
REVIEW_LEARNED_CHECK = Text(
    "Probe: Die Frage wird jetzt mit diesem Eintrag beantwortet.",
    "Check: the question is now answered with this entry.",
)
REVIEW_REFUSED = Text("❌ Nicht übernommen: {reason}", "❌ Not adopted: {reason}")
REVIEW_SELFTEST_FAILED = Text(
    "mit dieser Formulierung bestünde die Wissensbasis ihren Selbsttest nicht ({problem})",
    "with this phrasing the knowledge would fail its self-test ({problem})",
)
REVIEW_DISMISSED = Text("🗑 Verworfen: „{question}“.", "🗑 Dismissed: “{question}”.")
REVIEW_GONE = Text(
    "Diese Frage ist schon erledigt (übernommen, verworfen oder nicht mehr im Zeitraum).",
    "This question has been handled already (adopted, dismissed or out of the period).",
)
RELOAD_AUTO = Text(
    "Dateiänderung erkannt ({files}).",
    "File change detected ({files}).",
)
DAYS_USAGE = Text("Bitte eine Zahl von 1 bis {max} angeben, z. B. /stats 7.", "Please give a number from 1 to {max}.")

# ------------------------------------------------------------------------------------------ command menu

COMMANDS: tuple[tuple[str, Text], ...] = (
    ("themen", Text("Alle Themen und Fragen durchsehen", "Browse all topics and questions")),
    ("meilensteine", Text("Zeitplan mit aktuellem Stand", "Timeline with current status")),
    ("frage", Text("Eine Frage stellen (auch in Gruppen)", "Ask a question (also in groups)")),
    ("sprache", Text("Sprache wählen: Deutsch oder Englisch", "Choose language: German or English")),
    ("datenschutz", Text("Was gespeichert wird und wie lange", "What is stored and for how long")),
    ("vergessen", Text("Meine Spracheinstellung löschen", "Delete my language preference")),
    ("hilfe", Text("Hilfe und Übersicht", "Help and overview")),
)
GROUP_COMMANDS: tuple[tuple[str, Text], ...] = (
    ("frage", Text("Eine Frage stellen", "Ask a question")),
    ("themen", Text("Alle Themen durchsehen", "Browse all topics")),
    ("meilensteine", Text("Zeitplan mit aktuellem Stand", "Timeline with current status")),
    ("hilfe", Text("Hilfe und Übersicht", "Help and overview")),
    ("abonnieren", Text("Ankündigungen abonnieren (Gruppen-Admins)", "Subscribe to announcements (group admins)")),
    ("abbestellen", Text("Ankündigungen abbestellen (Gruppen-Admins)", "Unsubscribe (group admins)")),
)
ADMIN_COMMANDS: tuple[tuple[str, Text], ...] = (
    ("reload", Text("Redaktion: Wissensbasis neu laden", "Editors: reload the knowledge")),
    ("stats", Text("Redaktion: Statistik", "Editors: statistics")),
    ("unbeantwortet", Text("Redaktion: unbeantwortete Fragen", "Editors: unanswered questions")),
    ("ankuendigen", Text("Redaktion: Meilenstein ankündigen", "Editors: announce a milestone")),
)

# ------------------------------------------------------------------------------- group subscriptions

GROUP_WELCOME = Text(
    "Hallo! Ich bin der FAQ-Bot der Stadtverwaltung Konstanz zur Neuorganisation rund um das neue Amt für "
    "Digitalisierung. Fragen Sie mich hier mit /frage <Ihre Frage> oder @{username} <Ihre Frage>.\n\n"
    "Ankündigungen: Mit /abonnieren erhält diese Gruppe eine Nachricht, wenn ein Meilenstein der "
    "Neuorganisation erreicht ist (nur für Administratoren der Gruppe; z. B. /abonnieren schul-it für ein "
    "Thema, /abonnieren en für Englisch). /abbestellen beendet das Abo.",
    "Hello! I'm the FAQ bot of the City of Konstanz about the reorganisation around the new Office for "
    "Digitalisation. Ask me here with /frage <your question> or @{username} <your question>.\n\n"
    "Announcements: with /abonnieren this group gets a message when a milestone of the reorganisation is "
    "reached (group administrators only; e.g. /abonnieren schul-it for one topic, /abonnieren en for English). "
    "/abbestellen ends the subscription.",
)
SUBSCRIBE_GROUPS_ONLY = Text(
    "Ankündigungen können Gruppen abonnieren: Fügen Sie mich einer Gruppe hinzu und senden Sie dort /abonnieren.",
    "Groups can subscribe to announcements: add me to a group and send /abonnieren there.",
)
SUBSCRIBE_ADMINS_ONLY = Text(
    "Das Abo dieser Gruppe können nur ihre Administratoren ändern. Bitte fragen Sie eine Administratorin "
    "oder einen Administrator der Gruppe.",
    "Only the group's administrators can change its subscription. Please ask one of the group's administrators.",
)
SUBSCRIBED = Text(
    "Abonniert: Diese Gruppe erhält die Ankündigungen zu Meilensteinen der Neuorganisation ({topics}; "
    "Sprache: {lang}). /abbestellen beendet das Abo.",
    "Subscribed: this group receives the announcements about milestones of the reorganisation ({topics}; "
    "language: {lang}). /abbestellen ends the subscription.",
)
SUBSCRIBED_ALL = Text("alle Themen", "all topics")
SUBSCRIBED_TOPICS = Text("Themen: {topics}", "topics: {topics}")
SUBSCRIBE_UNKNOWN_TOPIC = Text(
    "Das Thema „{topic}“ kenne ich nicht. Mögliche Themen: {topics}. Ohne Thema gibt es alle Ankündigungen.",
    "I don't know the topic “{topic}”. Possible topics: {topics}. Without a topic you get all announcements.",
)
UNSUBSCRIBED = Text(
    "Abo beendet: Diese Gruppe erhält keine Ankündigungen mehr. /abonnieren startet es wieder.",
    "Subscription ended: this group no longer receives announcements. /abonnieren starts it again.",
)
NOT_SUBSCRIBED = Text("Diese Gruppe hat keine Ankündigungen abonniert.", "This group is not subscribed.")

# -------------------------------------------------------------------------------------- announcements

ANNOUNCE_STATUS = Text("Stand", "Status")
ANNOUNCE_USAGE = Text(
    "Bitte die Kennung eines Meilensteins angeben, z. B. /ankuendigen {example}. Meilensteine: {ids}",
    "Please give a milestone id, e.g. /ankuendigen {example}. Milestones: {ids}",
)
ANNOUNCE_UNKNOWN_MILESTONE = Text(
    "Den Meilenstein „{id}“ gibt es nicht. Meilensteine: {ids}",
    "There is no milestone “{id}”. Milestones: {ids}",
)
ANNOUNCE_PREVIEW = Text(
    "Vorschau – diese Nachricht geht an {count} Gruppe(n):",
    "Preview – this message goes to {count} group(s):",
)
ANNOUNCE_AGAIN = Text(
    "Achtung: Dieser Meilenstein wurde schon angekündigt. Bestätigen sendet ihn nur an Gruppen, die ihn noch "
    "nicht erhalten haben ({skipped} übersprungen).",
    "Note: this milestone was announced before. Confirming sends it only to groups that have not received it "
    "yet ({skipped} skipped).",
)
ANNOUNCE_NOBODY = Text(
    "Keine abonnierte Gruppe würde diese Ankündigung erhalten ({skipped} haben sie schon).",
    "No subscribed group would receive this announcement ({skipped} already have it).",
)
ANNOUNCE_CANCELLED = Text("Ankündigung abgebrochen – nichts gesendet.", "Announcement cancelled – nothing sent.")
ANNOUNCE_NOT_YOURS = Text(
    "Nur wer die Ankündigung vorbereitet hat, kann sie bestätigen.",
    "Only the person who prepared the announcement can confirm it.",
)
ANNOUNCE_STARTED = Text("Wird gesendet …", "Sending …")
ANNOUNCE_PROGRESS = Text(
    "Wird gesendet: {done} von {total} ({sent} gesendet, {failed} nicht zustellbar)",
    "Sending: {done} of {total} ({sent} sent, {failed} undeliverable)",
)
ANNOUNCE_REPORT = Text(
    "Zustellbericht Ankündigung #{id} – {milestone}", "Delivery report announcement #{id} – {milestone}"
)
ANNOUNCE_COUNTS = Text(
    "{total} Gruppen: {sent} gesendet, {failed} fehlgeschlagen, {removed} entfernt (Bot nicht mehr in der "
    "Gruppe), {unknown} unklar, {pending} offen",
    "{total} groups: {sent} sent, {failed} failed, {removed} removed (bot no longer in the group), "
    "{unknown} unknown, {pending} pending",
)
ANNOUNCE_UNKNOWN = Text(
    "Unklar (vielleicht zugestellt, wird nicht erneut gesendet): {chats}",
    "Unknown (maybe delivered, not sent again): {chats}",
)
BTN_ANNOUNCE_CONFIRM = Text("📣 Jetzt senden", "📣 Send now")
BTN_ANNOUNCE_CANCEL = Text("Abbrechen", "Cancel")
