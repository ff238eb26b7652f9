"""Free-text answers for the demo, in English, French and Spanish: fragments that combine, so comments read like
partners wrote them (varied wording, a few recurring themes to code) rather than ten sentences repeated."""

import random

# Each theme: what a partner asks for, said several ways, and why, in each language.
THEMES = {
    "regional_meetings": {
        "en": (["more regional meetings", "regional consultations closer to the field", "in-person regional dialogues",
                "meetings organised by region rather than only global ones"],
               ["so that national actors can take part", "because global calls rarely reach our ministries",
                "to discuss problems specific to our region"]),
        "fr": (["davantage de réunions régionales", "des consultations régionales plus proches du terrain",
                "des dialogues régionaux en présentiel", "des réunions par région et pas seulement mondiales"],
               ["pour que les acteurs nationaux puissent participer",
                "car les appels mondiaux atteignent rarement nos ministères",
                "pour traiter les problèmes propres à notre région"]),
        "es": (["más reuniones regionales", "consultas regionales más cercanas al terreno",
                "diálogos regionales presenciales", "reuniones por región y no solo globales"],
               ["para que los actores nacionales puedan participar",
                "porque las llamadas globales rara vez llegan a nuestros ministerios",
                "para tratar los problemas propios de nuestra región"]),
    },
    "translation": {
        "en": (["documents in French and Spanish at the same time as English", "interpretation in all meetings",
                "the newsletter in more languages"],
               ["as many of our colleagues do not work in English", "so that we can share them with national partners"]),
        "fr": (["les documents en français en même temps qu'en anglais", "l'interprétation dans toutes les réunions",
                "la lettre d'information en français"],
               ["car beaucoup de nos collègues ne travaillent pas en anglais",
                "pour pouvoir les partager avec nos partenaires nationaux"]),
        "es": (["los documentos en español al mismo tiempo que en inglés", "interpretación en todas las reuniones",
                "el boletín en español"],
               ["porque muchos de nuestros colegas no trabajan en inglés",
                "para poder compartirlos con los socios nacionales"]),
    },
    "financing": {
        "en": (["clearer information on funding opportunities", "a regular digest of calls for proposals",
                "help to connect our roadmap with donors"],
               ["since financing is our main obstacle", "as the roadmap cannot move without resources"]),
        "fr": (["des informations plus claires sur les possibilités de financement",
                "un bulletin régulier des appels à propositions", "un appui pour relier notre feuille de route aux bailleurs"],
               ["car le financement reste notre principal obstacle",
                "puisque la feuille de route n'avance pas sans ressources"]),
        "es": (["información más clara sobre oportunidades de financiación", "un resumen periódico de convocatorias",
                "apoyo para vincular nuestra hoja de ruta con los donantes"],
               ["ya que la financiación es nuestro principal obstáculo",
                "porque la hoja de ruta no avanza sin recursos"]),
    },
    "partner_directory": {
        "en": (["a directory of partners by country and topic", "introductions to organisations working on the same issues",
                "a way to find who does what in each Pathfinder Country"],
               ["to avoid duplicating efforts", "so that we can build joint projects"]),
        "fr": (["un annuaire des partenaires par pays et par thème",
                "des mises en relation avec les organisations qui travaillent sur les mêmes sujets",
                "un moyen de savoir qui fait quoi dans chaque pays pionnier"],
               ["pour éviter les doublons", "afin de monter des projets communs"]),
        "es": (["un directorio de socios por país y tema", "contactos con organizaciones que trabajan en los mismos temas",
                "una forma de saber quién hace qué en cada país pionero"],
               ["para evitar duplicar esfuerzos", "para poder construir proyectos conjuntos"]),
    },
    "shorter_briefings": {
        "en": (["shorter briefings before GCG meetings", "one-page summaries of decision papers",
                "fewer and more focused emails"],
               ["because we receive too much information to read", "as our focal points have little time"]),
        "fr": (["des notes plus courtes avant les réunions du GCG", "des résumés d'une page des documents de décision",
                "moins de courriels, mais plus ciblés"],
               ["car nous recevons trop d'informations à lire", "car nos points focaux ont peu de temps"]),
        "es": (["notas más breves antes de las reuniones del GCG", "resúmenes de una página de los documentos de decisión",
                "menos correos y más específicos"],
               ["porque recibimos demasiada información", "ya que nuestros puntos focales tienen poco tiempo"]),
    },
    "technical_assistance": {
        "en": (["more technical assistance on data collection", "follow-up support after the planning workshop",
                "practical guidance for implementing the roadmap"],
               ["since momentum fades after the workshop", "to report on progress with reliable figures"]),
        "fr": (["davantage d'assistance technique sur la collecte de données",
                "un suivi après l'atelier de planification", "des orientations pratiques pour mettre en œuvre la feuille de route"],
               ["car l'élan retombe après l'atelier", "pour rendre compte des progrès avec des chiffres fiables"]),
        "es": (["más asistencia técnica en recopilación de datos", "seguimiento después del taller de planificación",
                "orientación práctica para aplicar la hoja de ruta"],
               ["porque el impulso se pierde después del taller", "para informar de los avances con cifras fiables"]),
    },
    "survivor_voice": {
        "en": (["a real role for survivor-led organisations", "paid participation for survivor leaders",
                "consultation of survivors before decisions"],
               ["because their experience should shape priorities", "as token participation is not enough"]),
        "fr": (["une vraie place pour les organisations de survivants", "une participation rémunérée des leaders survivants",
                "la consultation des survivants avant les décisions"],
               ["car leur expérience doit orienter les priorités", "car une participation symbolique ne suffit pas"]),
        "es": (["un papel real para las organizaciones de sobrevivientes",
                "participación remunerada de los líderes sobrevivientes", "consultar a los sobrevivientes antes de decidir"],
               ["porque su experiencia debe orientar las prioridades", "ya que una participación simbólica no basta"]),
    },
    "time_zones": {
        "en": (["meetings at times that suit Asia and the Americas", "recordings of calls we cannot join",
                "rotating meeting times"],
               ["as most calls fall in the middle of our night", "so that every region can take part"]),
        "fr": (["des réunions à des heures adaptées à l'Asie et aux Amériques",
                "les enregistrements des appels auxquels nous ne pouvons pas participer", "des horaires de réunion tournants"],
               ["car la plupart des appels tombent en pleine nuit chez nous", "pour que toutes les régions puissent participer"]),
        "es": (["reuniones en horarios adecuados para Asia y las Américas",
                "grabaciones de las llamadas a las que no podemos asistir", "horarios de reunión rotativos"],
               ["porque la mayoría de las llamadas caen en plena noche para nosotros",
                "para que todas las regiones puedan participar"]),
    },
}

OPENERS = {
    "en": ["We would appreciate {ask}, {why}.", "It would help to have {ask}, {why}.", "Please consider {ask} {why}.",
           "Our main request: {ask}, {why}.", "{Ask} would make a real difference, {why}."],
    "fr": ["Nous apprécierions {ask}, {why}.", "Il serait utile d'avoir {ask}, {why}.", "Merci d'envisager {ask} {why}.",
           "Notre principale demande : {ask}, {why}.", "{Ask} ferait une vraie différence, {why}."],
    "es": ["Agradeceríamos {ask}, {why}.", "Sería útil contar con {ask}, {why}.", "Les pedimos considerar {ask} {why}.",
           "Nuestra principal petición: {ask}, {why}.", "{Ask} marcaría una verdadera diferencia, {why}."],
}
PRAISE = {
    "en": ["The Secretariat is responsive and the Action Group calls are useful.",
           "Membership gives us access to evidence we could not produce alone.",
           "The Alliance brings governments, unions and employers to the same table.",
           "The Pathfinder process gave our national work a clear structure."],
    "fr": ["Le Secrétariat est réactif et les réunions des groupes d'action sont utiles.",
           "L'adhésion nous donne accès à des données que nous ne pourrions pas produire seuls.",
           "L'Alliance réunit gouvernements, syndicats et employeurs autour de la même table.",
           "Le processus des pays pionniers a donné une structure claire à notre travail national."],
    "es": ["La Secretaría responde con rapidez y las reuniones de los grupos de acción son útiles.",
           "Ser socios nos da acceso a datos que no podríamos producir solos.",
           "La Alianza reúne a gobiernos, sindicatos y empleadores en la misma mesa.",
           "El proceso de países pioneros dio una estructura clara a nuestro trabajo nacional."],
}
CRITICISM = {
    "en": ["We rarely see what happens between meetings.", "Our role in the partnership is not clear to us.",
           "There is little activity at national level.", "Information arrives too late to act on."],
    "fr": ["Nous voyons rarement ce qui se passe entre les réunions.", "Notre rôle dans le partenariat n'est pas clair.",
           "Il y a peu d'activité au niveau national.", "Les informations arrivent trop tard pour agir."],
    "es": ["Rara vez vemos lo que ocurre entre reuniones.", "Nuestro papel en la alianza no está claro.",
           "Hay poca actividad a nivel nacional.", "La información llega demasiado tarde para actuar."],
}
OTHER_SPECIFY = {
    "en": ["Joint fundraising", "Access to ministries", "Learning from survivors", "Staff changes in our office"],
    "fr": ["Collecte de fonds commune", "Accès aux ministères", "Apprendre des survivants", "Changements de personnel"],
    "es": ["Recaudación conjunta", "Acceso a los ministerios", "Aprender de los sobrevivientes", "Cambios de personal"],
}


def _request(language: str, rng: random.Random, theme: str) -> str:
    asks, whys = THEMES[theme][language]
    ask = rng.choice(asks)
    return rng.choice(OPENERS[language]).format(ask=ask, Ask=ask[:1].upper() + ask[1:], why=rng.choice(whys))


def comment(question: str, language: str, rng: random.Random, score: int | None = None) -> str:
    """One partner's comment to a free-text question, in their language; `score` (0-10) sets the tone of a reason."""
    language = language if language in OPENERS else "en"
    themes = list(THEMES)
    if question == "recommend_why":
        if score is not None and score >= 9:
            return rng.choice(PRAISE[language])
        if score is not None and score <= 6:
            return f"{rng.choice(CRITICISM[language])} {_request(language, rng, rng.choice(themes))}"
        return f"{rng.choice(PRAISE[language])} {rng.choice(CRITICISM[language])}"
    if question.endswith("_other"):
        return rng.choice(OTHER_SPECIFY[language])
    first = rng.choices(themes, weights=[len(themes) - i for i in range(len(themes))])[0]
    text = _request(language, rng, first)
    if rng.random() < 0.3:
        text += " " + _request(language, rng, rng.choice([t for t in themes if t != first]))
    return text
