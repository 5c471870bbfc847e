"""Words that say nothing about *which* entry is meant: function words and colloquial fillers.

Question words that carry intent (wann, warum, wer, wo …) are deliberately absent: they are folded into concept
terms by :data:`bot.matching.normalize.BUILTIN_SYNONYMS` and weighted like any other term.
Verbs and nouns are absent too, even common ones: "Wie heißt der OB?" must not shrink to "OB".
"""

from __future__ import annotations

# Dialect "Leit"/"Lüt" (Leute) would stem like "Leiter" (the head of the office): they are fillers like "Leute".
_DE = """
aber alle allem allen aller alles als also am an andere anderen anders auch auf aus bei beim bin bis bisschen
bist bitte da dabei dafür daher damit dann daran darauf darf darüber das dass davon dazu dein deine deinen
deiner dem den denen denn der deren des dessen dich die dies diese diesem diesen dieser dieses dir doch dort du
durch eben eher eigentlich ein eine einem einen einer eines einfach einmal er es etwa etwas euch euer eure falls
fur für gar gerade gern gerne ganz genau gibt gibts gab geben gegeben grad gleich hab habe haben hat hatte hatten
hätte hätten hier hmm ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ins irgendwie irgendwer irgendwo ist ja
jemand jetzt kann kannst kein keine keinen können könnt könnte kurz las lass mal man manche mehr mein meine meinem
meinen meiner mich mir mit möchte möchten muss müssen na nach nachfrage naja nein nicht nichts noch nun nur ob oder
oh ohne sag sage sagen schon sehr sein seine seinem seinen seiner seit selbst sich sie sind so sodass soll sollen
sollte sondern sowas steht stimmt uns unser unsere unserem unseren unter um und viel vielleicht vom von vor wäre
wären war waren warst was weiss weiß weisst weißt welche welchem welchen welcher welches wenn werde werden wird
wie wieder wir wirklich wissen wollen wohl wurde wurden würde würden zu zum zur zwar über eig eigtl evtl bzw
usw bzgl hey kurze frage fragen frag gerne erklären erkläre erklärt weitere weiteren weiterer weiteres
zusammen nie nochmal mal überhaupt halt ehrlich konkret eh sowieso bloß gegenüber worum gehts geht's
woanders irgendwas irgendwie okay ok
isch des do dr etz jetz hend hen ned net nix gell nem nen ne is gabs wirds scho werdet dürfe hemmer
geht anderem kurzem endlich echt meinte gesagt damals längst ungefähr wüsste bräuchte verstehe vorher
fürs ans aufs ums vors übers durchs hinters unters ner bereits
gelesen erwähnt erwähnte erwähnen zeug kram rätseln rätselt gerätselt überlege überlegt überlegen
sorry bevor nachdem dra dran viele sonst außer ausser
mer au uf vo gsi goht hasch hosch ma zm dia erscht gschwind en mi gits
blöd blöde blöden ständig dauernd
art ruhe reden rede
oi oim oin oine oiner hot fir uff ebbes nochher noher sei müsset tue mr meh zamme selber digi
hät hätt ons öbber öpper em alli zämme neis handelt
ka nochamol nommol eus ois han drum üs lasse
woisch weisch woasch drunter darunter de
gehabt ghabt gewesen
ding dings paarmal mehrmals öfters ha
leit lüt
ganze ganzen ganzer ganzes keiner keines jemandem jemanden mehrere mehreren unserer unseres
nächste nächstes nächsten nächster naechste naechstes naechsten
trotzdem dennoch jedoch allerdings
geehrte geehrter geehrtes damen herren
worauf bezug bezüglich hinblick blick innerhalb hoff hoffe hoffentlich erläutern erläutert erläutere
betrifft betreffen geredet gredet redet gehen
se mei gruß gruss grüße grüsse vorfeld
dumm dumme dummer mol einer
auswirkung auswirkungen auswirken auswirkt
"""

_EN = """
a about all also am an and any anyone anything are as at be been but by can could did do does doing for from get
got has have having he her here him his how i i'm if in into is it's its just know let like me might more my no
not now of on or our please really she should so some something tell than that the their them then there these
they this those to us was we were what which will with would you your yours hey quick question whats
re ll ve actually someone somebody anybody because already yet still
heard mentioned stuff thing things wonder wondering wondered curious
sorry before after different another other much many
put puts putting
"""

EN_STOPWORDS = frozenset(_EN.split())
STOPWORDS = frozenset(_DE.split()) | EN_STOPWORDS

# Words that mark a text as English for answer-language detection (function words plus question words).
EN_HINTS = EN_STOPWORDS | frozenset(
    ["when", "why", "who", "where", "office", "department", "council", "head", "school", "schools"]
)
