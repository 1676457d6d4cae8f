"""Hand-written text for simulated support tickets and survey comments (used by ``feedback_text``).

Slots a template may use (filled per row by ``feedback_text``): ``{amount}`` money as a person writes it
(fiat or a crypto quantity), ``{fee}`` a fee in fiat, ``{asset}`` a ticker, ``{dur}`` a duration
("3 days", "48h"), ``{tx}`` a transaction reference, ``{order}`` an order id, ``{last4}`` card digits,
``{err}`` an app error code. Templates with ``{amount}`` are only used when the row has money involved.
Survey phrases are lower-case fragments; they are capitalised and punctuated when assembled, and may
use ``{dur}`` only. The non-English text is written to be real language, not English with a flag.
"""

from __future__ import annotations

Pool = tuple[str, ...]

# --------------------------------------------------------------------------------------- ticket bodies
BODIES: dict[str, dict[str, Pool]] = {
    "en": {
        "slow_withdrawal": (
            "I withdrew {amount} {dur} ago and it is still pending.",
            "I requested a withdrawal {dur} ago and it still shows \"processing\". {tx}. Where is my money?",
            "Withdrawal stuck. {dur} now.",
            "I made a transfer of {amount} to my external wallet {dur} ago ({tx}) and nothing has arrived yet. "
            "Your side says completed but the blockchain shows nothing.",
            "Why does it take {dur} to send {asset} out of my account? Other exchanges do it in minutes.",
            "I sent money to my bank account and the transfer is still not there after {dur}. "
            "Can you check what is happening?",
        ),
        "kyc_rejected": (
            "My verification was rejected again and nobody tells me why.",
            "I uploaded my passport and a selfie three times and the KYC keeps failing with "
            "\"document not readable\". The photos are clear.",
            "KYC rejected. Why??",
            "I have been trying to verify my identity for {dur}. Every time I get rejected with no explanation, "
            "and I can't withdraw {amount} until this is solved.",
            "Your system says my proof of address is invalid but it is a bank statement from last month. "
            "What else do you want?",
            "Could you please tell me which document is missing for the verification? My application was declined.",
        ),
        "account_frozen": (
            "My account has been frozen without any explanation. I have {amount} in there.",
            "I can't access my account, it says it is restricted. I did nothing wrong.",
            "Account locked for {dur}, I need my money NOW",
            "You blocked my account after I deposited {amount}. Compliance asked me for documents, "
            "I sent them {dur} ago and still no answer.",
            "Why is my account under review? I can't trade or withdraw anything.",
            "Received an email saying my account is suspended due to 'suspicious activity'. "
            "Please explain what activity, I only trade {asset}.",
        ),
        "trading_loss": (
            "I lost {amount} because the platform froze during the crash. I want compensation.",
            "My stop loss on {asset} did not trigger and the position was liquidated. Order {order}.",
            "The price on your chart was different from the market, my order {order} was filled at a terrible "
            "price and I lost {amount}.",
            "Got liquidated while the app was not loading. This is not my fault.",
            "Why was my {asset} position closed? I had enough margin.",
            "Slippage on my market order was insane, I lost {amount} in seconds. Is this normal?",
        ),
        "card_declined": (
            "My card payment was declined again when trying to buy {asset}.",
            "I tried to deposit {amount} with my card ending {last4} and it says 'transaction declined'. "
            "My bank says everything is fine on their side.",
            "Card keeps getting declined.",
            "Every time I try to top up with my Visa I get an error and the money is blocked on my bank "
            "account for {dur}.",
            "Why can't I use my card? It worked last month.",
            "The card payment failed but my bank charged me {amount} anyway. Reference {tx}.",
        ),
        "high_fees": (
            "Your fees are way too high. I paid almost {fee} for a simple withdrawal.",
            "I bought {amount} and was charged {fee} in fees. Why so much?",
            "The spread on {asset} is ridiculous, I'm basically paying double fees.",
            "Withdrawal fee of {fee} for USDT?? Other platforms charge 1 dollar.",
            "Fees eat all my profit. Please explain the fee structure, it is not clear at all from your website.",
            "I was charged a hidden fee of {fee} when I transferred money from my card. Nobody told me about that.",
        ),
        "app_bug": (
            "The app crashes every time I open the wallet page.",
            "Error {err} when I try to place an order.",
            "After the last update the balance shows 0 but I have {amount} in my account.",
            "app not working",
            "Charts are not loading, the buttons don't respond and sometimes I get logged out. "
            "iPhone 13, latest version.",
            "When I try to transfer between spot and futures wallets the screen just freezes with error {err}.",
        ),
        "login_problem": (
            "I can't log in, the 2FA code is always invalid.",
            "I changed my phone and lost my authenticator. How do I get back into my account?",
            "I have been trying to log in for {dur}, the verification email never arrives.",
            "Password reset link does not work.",
            "Login says 'too many attempts' and locks me out. I need to access my account urgently, "
            "I have {amount} in open positions.",
            "The app crashes on the login screen so I can't get into my account.",
        ),
        "deposit_missing": (
            "I deposited {amount} {dur} ago and it is not showing in my balance.",
            "I sent {asset} to my deposit address, the transaction is confirmed on the blockchain ({tx}) "
            "but nothing in my account.",
            "Bank transfer of {amount} made {dur} ago still not credited.",
            "Where is my deposit??",
            "I made a transfer to you from my bank, the money left my account but your system shows nothing. "
            "I attach the receipt.",
            "I forgot the memo/tag when depositing {asset}, can you please recover it? {tx}",
        ),
        "general_question": (
            "How long does a withdrawal to a bank account usually take?",
            "Do you support {asset} on the Arbitrum network?",
            "I would like to know if I can have two accounts, one personal and one for my company.",
            "Which documents do I need for a higher withdrawal limit?",
            "Is there a way to export my transaction history for taxes?",
            "Can I transfer {amount} from my bank in one go or is there a daily limit?",
        ),
        "praise": (
            "Just wanted to say thank you, my withdrawal arrived in minutes.",
            "Great support, the agent solved my problem very fast. Keep it up!",
            "Best exchange I have used so far, the app is very easy.",
            "Thanks for fixing the login issue so quickly.",
            "Your team helped me recover {amount} I sent to the wrong network. Really appreciate it!",
            "I was skeptical at first but the whole verification took only {dur}. Impressive.",
        ),
    },
    # English written by non-native speakers (used for a share of the "en" rows)
    "en_nn": {
        "slow_withdrawal": (
            "Hello sir, my withdraw is not coming since {dur}, please check urgently.",
            "i am do withdrawal of {amount} but still pending, when money will come??",
        ),
        "kyc_rejected": (
            "My KYC is reject again, i send all documents already. What is problem?",
            "Please verify my account, i am waiting verification since {dur}.",
        ),
        "account_frozen": (
            "why my account is block? i not did anything wrong",
            "My account is freeze and i can not withdraw my {amount}, please open it.",
        ),
        "trading_loss": (
            "I am lose {amount} because system was hang, please return my money.",
            "My order {order} is closed without my permission, how is possible?",
        ),
        "card_declined": (
            "My card is decline always, what i can do?",
            "I am try to buy {asset} with card but is give error, bank say is ok.",
        ),
        "high_fees": (
            "Why fee is so much high? I am pay {fee} only for one withdraw.",
            "Fees is too much, please reduce it.",
        ),
        "app_bug": (
            "App is not open, showing error {err}, please solve.",
            "When i click on wallet the app is closing itself.",
        ),
        "login_problem": (
            "I am not able to login in my account, code is not coming.",
            "I lost my phone with google authenticator, kindly reset my 2FA.",
        ),
        "deposit_missing": (
            "I have deposit {amount} but not show in my account, kindly check.",
            "I send {asset} on my deposit address but till now not received, txid {tx}.",
        ),
        "general_question": (
            "Please tell me how much time take the withdraw to bank?",
            "Can i open account for my company also?",
        ),
        "praise": (
            "Very good app, thank you for fast help.",
            "Thank you so much sir, my problem is solved.",
        ),
    },
    "es": {
        "slow_withdrawal": (
            "Hice un retiro de {amount} hace {dur} y sigue en estado pendiente.",
            "Mi retiro lleva {dur} procesándose. ¿Dónde está mi dinero? {tx}",
            "La transferencia a mi wallet no llega. ¿Por qué tarda tanto en salir el {asset}?",
            "Retiro atascado desde hace {dur}, necesito el dinero ya.",
        ),
        "kyc_rejected": (
            "Me rechazaron la verificación otra vez y nadie me explica por qué.",
            "Subí mi DNI y la selfie tres veces y el KYC sigue fallando. Las fotos se ven perfectamente.",
            "No puedo retirar {amount} porque no me aprueban la verificación de identidad.",
        ),
        "account_frozen": (
            "Mi cuenta está bloqueada sin ninguna explicación.",
            "Me congelaron la cuenta después de depositar {amount}. Mandé los documentos que pidieron hace "
            "{dur} y nada.",
            "¿Por qué mi cuenta está en revisión? No puedo operar ni retirar nada.",
        ),
        "trading_loss": (
            "Perdí {amount} porque la plataforma se colgó durante la caída del mercado. Quiero una compensación.",
            "Mi stop loss en {asset} no se ejecutó y me liquidaron la posición. Orden {order}.",
            "Me liquidaron mientras la app no cargaba, no es mi culpa.",
        ),
        "card_declined": (
            "Mi tarjeta es rechazada cada vez que intento comprar {asset}.",
            "Intenté depositar {amount} con mi tarjeta terminada en {last4} y dice 'transacción rechazada'. "
            "El banco dice que todo está bien.",
            "El pago con tarjeta falló pero el banco me cobró igual. Referencia {tx}.",
        ),
        "high_fees": (
            "Las comisiones son demasiado altas. Pagué {fee} por un simple retiro.",
            "El spread en {asset} es ridículo, es como pagar doble comisión.",
            "Me cobraron una comisión oculta de {fee} al transferir dinero desde mi tarjeta. Nadie me avisó.",
        ),
        "app_bug": (
            "La app se cierra cada vez que abro la billetera.",
            "Me sale el error {err} cuando intento poner una orden.",
            "Después de la última actualización el saldo aparece en 0 pero tengo {amount} en la cuenta.",
        ),
        "login_problem": (
            "No puedo iniciar sesión, el código 2FA siempre es inválido.",
            "Cambié de teléfono y perdí el autenticador. ¿Cómo recupero el acceso a mi cuenta?",
            "Hace {dur} que intento entrar y el correo de verificación nunca llega.",
        ),
        "deposit_missing": (
            "Deposité {amount} hace {dur} y no aparece en mi saldo.",
            "Envié {asset} a mi dirección de depósito, la transacción está confirmada en la blockchain ({tx}) "
            "pero no veo nada en la cuenta.",
            "Hice una transferencia desde mi banco, el dinero salió de mi cuenta pero ustedes no muestran nada.",
        ),
        "general_question": (
            "¿Cuánto tarda normalmente un retiro a una cuenta bancaria?",
            "¿Puedo tener dos cuentas, una personal y otra para mi empresa?",
            "¿Qué documentos necesito para subir el límite de retiro?",
        ),
        "praise": (
            "Solo quería dar las gracias, mi retiro llegó en minutos.",
            "Excelente soporte, el agente resolvió mi problema muy rápido. ¡Sigan así!",
            "La mejor plataforma que he usado, la app es muy fácil.",
        ),
    },
    "pt": {
        "slow_withdrawal": (
            "Fiz um saque de {amount} há {dur} e continua pendente.",
            "Meu saque está em processamento há {dur}. Cadê meu dinheiro? {tx}",
            "A transferência para minha carteira não chega. Por que demora tanto para sair o {asset}?",
            "Saque travado há {dur}, preciso do dinheiro agora.",
        ),
        "kyc_rejected": (
            "Minha verificação foi recusada de novo e ninguém me explica o motivo.",
            "Enviei meu RG e a selfie três vezes e o KYC continua falhando. As fotos estão nítidas.",
            "Não consigo sacar {amount} porque não aprovam minha verificação de identidade.",
        ),
        "account_frozen": (
            "Minha conta foi bloqueada sem nenhuma explicação.",
            "Congelaram minha conta depois que depositei {amount}. Mandei os documentos há {dur} e nada.",
            "Por que minha conta está em análise? Não consigo operar nem sacar nada.",
        ),
        "trading_loss": (
            "Perdi {amount} porque a plataforma travou durante a queda do mercado. Quero uma compensação.",
            "Meu stop loss em {asset} não foi executado e minha posição foi liquidada. Ordem {order}.",
            "Fui liquidado enquanto o app não carregava, a culpa não é minha.",
        ),
        "card_declined": (
            "Meu cartão é recusado toda vez que tento comprar {asset}.",
            "Tentei depositar {amount} com o cartão final {last4} e aparece 'transação recusada'. "
            "O banco diz que está tudo certo.",
            "O pagamento com cartão falhou mas o banco me cobrou mesmo assim. Referência {tx}.",
        ),
        "high_fees": (
            "As taxas são altas demais. Paguei {fee} por um simples saque.",
            "O spread do {asset} é absurdo, é como pagar taxa em dobro.",
            "Me cobraram uma taxa escondida de {fee} na transferência pelo cartão. Ninguém me avisou.",
        ),
        "app_bug": (
            "O app fecha toda vez que abro a carteira.",
            "Aparece o erro {err} quando tento colocar uma ordem.",
            "Depois da última atualização o saldo aparece zerado, mas tenho {amount} na conta.",
        ),
        "login_problem": (
            "Não consigo fazer login, o código 2FA sempre dá inválido.",
            "Troquei de celular e perdi o autenticador. Como recupero o acesso à minha conta?",
            "Há {dur} tento entrar e o e-mail de verificação nunca chega.",
        ),
        "deposit_missing": (
            "Depositei {amount} há {dur} e não aparece no meu saldo.",
            "Enviei {asset} para meu endereço de depósito, a transação está confirmada na blockchain ({tx}) "
            "mas não aparece nada na conta.",
            "Fiz uma transferência pelo Pix, o dinheiro saiu da minha conta mas vocês não mostram nada.",
        ),
        "general_question": (
            "Quanto tempo demora normalmente um saque para conta bancária?",
            "Posso ter duas contas, uma pessoal e outra para minha empresa?",
            "Quais documentos preciso para aumentar o limite de saque?",
        ),
        "praise": (
            "Só queria agradecer, meu saque caiu em minutos.",
            "Suporte excelente, o atendente resolveu meu problema muito rápido. Parabéns!",
            "Melhor corretora que já usei, o app é muito fácil.",
        ),
    },
    "de": {
        "slow_withdrawal": (
            "Meine Auszahlung über {amount} hängt jetzt schon {dur} auf 'ausstehend'.",
            "Ich warte schon {dur} auf meine Auszahlung. Wo ist mein Geld? {tx}",
            "Die Überweisung auf mein Wallet kommt nicht an. Warum dauert es so lange, {asset} auszuzahlen?",
            "Auszahlung hängt seit Tagen, ich brauche das Geld jetzt.",
        ),
        "kyc_rejected": (
            "Meine Verifizierung wurde schon wieder abgelehnt und niemand sagt mir, warum.",
            "Ich habe meinen Ausweis und das Selfie dreimal hochgeladen und die KYC-Prüfung schlägt immer "
            "wieder fehl. Die Fotos sind gestochen scharf.",
            "Ich kann {amount} nicht auszahlen, weil meine Identitätsprüfung nicht genehmigt wird.",
        ),
        "account_frozen": (
            "Mein Konto wurde ohne jede Erklärung gesperrt.",
            "Nachdem ich {amount} eingezahlt habe, wurde mein Konto eingefroren. Die angeforderten Dokumente "
            "habe ich längst geschickt, aber es passiert nichts.",
            "Warum ist mein Konto in Prüfung? Ich kann weder handeln noch etwas auszahlen.",
        ),
        "trading_loss": (
            "Ich habe {amount} verloren, weil die Plattform beim Crash eingefroren ist. "
            "Ich will eine Entschädigung.",
            "Mein Stop-Loss bei {asset} wurde nicht ausgelöst und meine Position wurde liquidiert. Order {order}.",
            "Ich wurde liquidiert, während die App nicht geladen hat. Das ist nicht meine Schuld.",
        ),
        "card_declined": (
            "Meine Karte wird jedes Mal abgelehnt, wenn ich {asset} kaufen will.",
            "Ich wollte {amount} mit meiner Karte (Endung {last4}) einzahlen und bekomme 'Transaktion "
            "abgelehnt'. Laut Bank ist alles in Ordnung.",
            "Die Kartenzahlung ist fehlgeschlagen, aber die Bank hat mir trotzdem Geld abgebucht. Referenz {tx}.",
        ),
        "high_fees": (
            "Eure Gebühren sind viel zu hoch. Ich habe {fee} für eine einfache Auszahlung bezahlt.",
            "Der Spread bei {asset} ist lächerlich, das sind praktisch doppelte Gebühren.",
            "Mir wurde bei der Überweisung per Karte eine versteckte Gebühr von {fee} berechnet. "
            "Darauf hat niemand hingewiesen.",
        ),
        "app_bug": (
            "Die App stürzt jedes Mal ab, wenn ich die Wallet öffne.",
            "Ich bekomme den Fehler {err}, wenn ich eine Order aufgeben will.",
            "Seit dem letzten Update zeigt die App einen Kontostand von 0 an, obwohl ich {amount} auf dem "
            "Konto habe.",
        ),
        "login_problem": (
            "Ich kann mich nicht einloggen, der 2FA-Code ist immer ungültig.",
            "Ich habe ein neues Handy und den Authenticator verloren. Wie komme ich wieder in mein Konto?",
            "Ich versuche schon {dur}, mich anzumelden, aber die Bestätigungs-E-Mail kommt nie an.",
        ),
        "deposit_missing": (
            "Ich habe {amount} eingezahlt und warte schon {dur}, aber im Guthaben ist nichts zu sehen.",
            "Ich habe {asset} an meine Einzahlungsadresse geschickt, die Transaktion ist auf der Blockchain "
            "bestätigt ({tx}), aber auf meinem Konto ist nichts angekommen.",
            "Ich habe eine Überweisung von meiner Bank gemacht, das Geld ist weg, aber bei euch wird nichts "
            "angezeigt.",
        ),
        "general_question": (
            "Wie lange dauert normalerweise eine Auszahlung auf ein Bankkonto?",
            "Kann ich zwei Konten haben, eins privat und eins für meine Firma?",
            "Welche Dokumente brauche ich, um mein Auszahlungslimit zu erhöhen?",
        ),
        "praise": (
            "Ich wollte mich nur bedanken, meine Auszahlung war in wenigen Minuten da.",
            "Super Support, der Mitarbeiter hat mein Problem sehr schnell gelöst. Weiter so!",
            "Die beste Börse, die ich bisher benutzt habe, die App ist sehr einfach.",
        ),
    },
    "fr": {
        "slow_withdrawal": (
            "J'ai fait un retrait de {amount} il y a {dur} et il est toujours en attente.",
            "Mon retrait est en cours de traitement depuis {dur}. Où est mon argent ? {tx}",
            "Le virement vers mon wallet n'arrive pas. Pourquoi faut-il autant de temps pour retirer mes {asset} ?",
            "Retrait bloqué depuis {dur}, j'ai besoin de cet argent maintenant.",
        ),
        "kyc_rejected": (
            "Ma vérification a encore été refusée et personne ne m'explique pourquoi.",
            "J'ai envoyé ma carte d'identité et le selfie trois fois et le KYC échoue toujours. "
            "Les photos sont parfaitement nettes.",
            "Je ne peux pas retirer {amount} parce que ma vérification d'identité n'est pas validée.",
        ),
        "account_frozen": (
            "Mon compte a été bloqué sans aucune explication.",
            "Vous avez gelé mon compte après mon dépôt de {amount}. J'ai envoyé les documents demandés il y a "
            "{dur} et toujours rien.",
            "Pourquoi mon compte est-il en cours de vérification ? Je ne peux ni trader ni retirer.",
        ),
        "trading_loss": (
            "J'ai perdu {amount} parce que la plateforme a planté pendant la chute du marché. "
            "Je veux une compensation.",
            "Mon stop loss sur {asset} ne s'est pas déclenché et ma position a été liquidée. Ordre {order}.",
            "J'ai été liquidé pendant que l'application ne chargeait pas, ce n'est pas ma faute.",
        ),
        "card_declined": (
            "Ma carte est refusée chaque fois que j'essaie d'acheter de la crypto.",
            "J'ai essayé de déposer {amount} avec ma carte se terminant par {last4} et j'ai le message "
            "'transaction refusée'. Ma banque dit que tout va bien.",
            "Le paiement par carte a échoué mais la banque m'a quand même débité. Référence {tx}.",
        ),
        "high_fees": (
            "Vos frais sont beaucoup trop élevés. J'ai payé {fee} pour un simple retrait.",
            "Le spread sur {asset} est ridicule, c'est comme payer des frais en double.",
            "On m'a facturé des frais cachés de {fee} sur un virement par carte. Personne ne m'a prévenu.",
        ),
        "app_bug": (
            "L'application plante à chaque fois que j'ouvre le portefeuille.",
            "J'ai l'erreur {err} quand j'essaie de passer un ordre.",
            "Depuis la dernière mise à jour mon solde affiche 0 alors que j'ai {amount} sur mon compte.",
        ),
        "login_problem": (
            "Je n'arrive pas à me connecter, le code 2FA est toujours invalide.",
            "J'ai changé de téléphone et j'ai perdu mon authentificateur. Comment récupérer l'accès à mon compte ?",
            "J'essaie de me connecter depuis {dur} et l'e-mail de vérification n'arrive jamais.",
        ),
        "deposit_missing": (
            "J'ai déposé {amount} il y a {dur} et ça n'apparaît pas sur mon solde.",
            "J'ai envoyé des {asset} à mon adresse de dépôt, la transaction est confirmée sur la blockchain "
            "({tx}) mais rien sur mon compte.",
            "J'ai fait un virement depuis ma banque, l'argent est parti de mon compte mais chez vous rien ne "
            "s'affiche.",
        ),
        "general_question": (
            "Combien de temps prend normalement un retrait vers un compte bancaire ?",
            "Est-ce que je peux avoir deux comptes, un personnel et un pour ma société ?",
            "Quels documents faut-il pour augmenter ma limite de retrait ?",
        ),
        "praise": (
            "Je voulais juste vous remercier, mon retrait est arrivé en quelques minutes.",
            "Excellent support, l'agent a réglé mon problème très rapidement. Continuez comme ça !",
            "La meilleure plateforme que j'ai utilisée, l'application est très simple.",
        ),
    },
    "tr": {
        "slow_withdrawal": (
            "{amount} tutarında çekim talebi verdim, {dur} oldu hâlâ beklemede.",
            "Çekim işlemim {dur} oldu hâlâ işleniyor. Param nerede? {tx}",
            "Cüzdanıma yaptığım transfer gelmedi. {asset} çekmek neden bu kadar uzun sürüyor?",
            "Çekim takıldı, {dur} oldu, paraya acil ihtiyacım var.",
        ),
        "kyc_rejected": (
            "Doğrulamam yine reddedildi ve kimse nedenini açıklamıyor.",
            "Kimliğimi ve selfiemi üç kez yükledim ama KYC hâlâ başarısız oluyor. Fotoğraflar gayet net.",
            "Kimlik doğrulamam onaylanmadığı için {amount} çekemiyorum.",
        ),
        "account_frozen": (
            "Hesabım hiçbir açıklama yapılmadan kilitlendi.",
            "{amount} yatırdıktan sonra hesabımı dondurdunuz. İstediğiniz belgeleri göndereli {dur} oldu, "
            "hâlâ ses yok.",
            "Hesabım neden incelemede? Ne işlem yapabiliyorum ne de para çekebiliyorum.",
        ),
        "trading_loss": (
            "Piyasa düşerken platform dondu ve {amount} kaybettim. Tazminat istiyorum.",
            "{asset} için koyduğum stop loss çalışmadı ve pozisyonum likide edildi. Emir no: {order}.",
            "Uygulama açılmazken likide oldum, bu benim suçum değil.",
        ),
        "card_declined": (
            "{asset} almaya çalıştığım her seferde kartım reddediliyor.",
            "Sonu {last4} ile biten kartımla {amount} yatırmaya çalıştım, 'işlem reddedildi' diyor. "
            "Banka her şeyin yolunda olduğunu söylüyor.",
            "Kartla ödeme başarısız oldu ama banka yine de parayı çekti. Referans: {tx}.",
        ),
        "high_fees": (
            "Komisyonlarınız çok yüksek. Basit bir çekim için {fee} ödedim.",
            "{asset} paritesindeki makas çok saçma, resmen iki kat komisyon ödüyorum.",
            "Kartla para transferinde benden {fee} gizli ücret kesildi. Kimse bundan bahsetmedi.",
        ),
        "app_bug": (
            "Cüzdan sayfasını her açtığımda uygulama çöküyor.",
            "Emir vermeye çalışınca hep {err} hatası alıyorum.",
            "Son güncellemeden sonra bakiyem 0 görünüyor ama hesabımda {amount} var.",
        ),
        "login_problem": (
            "Giriş yapamıyorum, 2FA kodu hep geçersiz diyor.",
            "Telefonumu değiştirdim ve authenticator uygulamasını kaybettim. Hesabıma nasıl tekrar girebilirim?",
            "{dur} oldu giriş yapmaya çalışıyorum, doğrulama e-postası bir türlü gelmiyor.",
        ),
        "deposit_missing": (
            "{dur} önce {amount} yatırdım ama bakiyemde görünmüyor.",
            "Yatırma adresime {asset} gönderdim, işlem blockchain'de onaylandı ({tx}) ama hesabıma hiçbir şey "
            "gelmedi.",
            "Bankamdan havale yaptım, para hesabımdan çıktı ama sizde hiçbir şey görünmüyor.",
        ),
        "general_question": (
            "Banka hesabına çekim normalde ne kadar sürüyor?",
            "Biri şahsi, biri şirketim için iki hesap açabilir miyim?",
            "Çekim limitimi artırmak için hangi belgeler gerekiyor?",
        ),
        "praise": (
            "Sadece teşekkür etmek istedim, çekimim birkaç dakikada geldi.",
            "Harika destek, temsilci sorunumu çok hızlı çözdü. Böyle devam edin!",
            "Kullandığım en iyi borsa, uygulama çok kolay.",
        ),
    },
    "ru": {
        "slow_withdrawal": (
            "Сделал вывод {amount} {dur} назад, а он до сих пор в обработке.",
            "Мой вывод обрабатывается уже {dur}. Где мои деньги? {tx}",
            "Перевод на мой кошелёк так и не пришёл. Почему вывод {asset} занимает столько времени?",
            "Вывод завис уже {dur}, мне срочно нужны деньги.",
        ),
        "kyc_rejected": (
            "Мне опять отклонили верификацию, и никто не объясняет почему.",
            "Я три раза загружал паспорт и селфи, а KYC всё равно не проходит. Фотографии абсолютно чёткие.",
            "Не могу вывести {amount}, потому что мне не одобряют проверку личности.",
        ),
        "account_frozen": (
            "Мой аккаунт заблокировали без всяких объяснений.",
            "После того как я внёс {amount}, вы заморозили мой аккаунт. Документы я отправил {dur} назад, "
            "и до сих пор тишина.",
            "Почему мой аккаунт на проверке? Я не могу ни торговать, ни выводить.",
        ),
        "trading_loss": (
            "Я потерял {amount}, потому что платформа зависла во время обвала рынка. Требую компенсацию.",
            "Мой стоп-лосс по {asset} не сработал, и позицию ликвидировали. Ордер {order}.",
            "Меня ликвидировали, пока приложение не загружалось. Это не моя вина.",
        ),
        "card_declined": (
            "Моя карта отклоняется каждый раз, когда я пытаюсь купить {asset}.",
            "Пытался пополнить счёт на {amount} картой, оканчивающейся на {last4}, пишет «транзакция "
            "отклонена». В банке говорят, что всё в порядке.",
            "Оплата картой не прошла, но банк всё равно списал деньги. Номер операции {tx}.",
        ),
        "high_fees": (
            "У вас слишком высокие комиссии. Я заплатил {fee} за обычный вывод.",
            "Спред по {asset} просто смешной, по сути двойная комиссия.",
            "При переводе с карты с меня списали скрытую комиссию {fee}. Никто об этом не предупреждал.",
        ),
        "app_bug": (
            "Приложение вылетает каждый раз, когда я открываю кошелёк.",
            "Выдаёт ошибку {err}, когда пытаюсь выставить ордер.",
            "После последнего обновления баланс показывает 0, хотя у меня на счету {amount}.",
        ),
        "login_problem": (
            "Не могу войти, код 2FA всё время неверный.",
            "Я сменил телефон и потерял аутентификатор. Как мне восстановить доступ к аккаунту?",
            "Уже {dur} пытаюсь войти, а письмо с подтверждением так и не приходит.",
        ),
        "deposit_missing": (
            "Я пополнил счёт на {amount} {dur} назад, но на балансе ничего нет.",
            "Отправил {asset} на свой адрес для депозита, транзакция подтверждена в блокчейне ({tx}), "
            "но на счёт ничего не пришло.",
            "Сделал перевод из банка, деньги с моей карты списались, а у вас ничего не отображается.",
        ),
        "general_question": (
            "Сколько обычно занимает вывод на банковский счёт?",
            "Можно ли иметь два аккаунта: личный и для моей компании?",
            "Какие документы нужны, чтобы увеличить лимит на вывод?",
        ),
        "praise": (
            "Просто хотел сказать спасибо, мой вывод пришёл за пару минут.",
            "Отличная поддержка, сотрудник очень быстро решил мою проблему. Так держать!",
            "Лучшая биржа из всех, что я пробовал, приложение очень удобное.",
        ),
    },
}

# --------------------------------------------------------------------------------------- ticket subjects
SUBJECTS: dict[str, dict[str, Pool]] = {
    "en": {
        "slow_withdrawal": ("Withdrawal pending", "Where is my withdrawal?", "{asset} withdrawal not received",
                            "Transfer delayed"),
        "kyc_rejected": ("KYC rejected", "Verification problem", "Identity verification failed"),
        "account_frozen": ("Account frozen", "Account suspended??", "Why is my account restricted"),
        "trading_loss": ("Liquidation complaint", "Lost money because of your platform", "Order {order} issue"),
        "card_declined": ("Card declined", "Can't buy with card", "Payment failed"),
        "high_fees": ("Fees", "Withdrawal fee too high", "Hidden fees"),
        "app_bug": ("App crash", "Error {err}", "Bug in the app"),
        "login_problem": ("Can't log in", "2FA problem", "Login issue"),
        "deposit_missing": ("Deposit not credited", "Missing deposit", "Transfer not received"),
        "general_question": ("Question", "Question about withdrawals", "Info request"),
        "praise": ("Thank you!", "Great service", "Feedback"),
    },
    "es": {
        "slow_withdrawal": ("Retiro pendiente", "¿Dónde está mi retiro?", "Transferencia retrasada"),
        "kyc_rejected": ("KYC rechazado", "Problema con la verificación"),
        "account_frozen": ("Cuenta bloqueada", "¿Por qué está suspendida mi cuenta?"),
        "trading_loss": ("Reclamo por liquidación", "Perdí dinero por la plataforma"),
        "card_declined": ("Tarjeta rechazada", "No puedo comprar con tarjeta"),
        "high_fees": ("Comisiones", "Comisión de retiro muy alta"),
        "app_bug": ("La app no funciona", "Error {err}"),
        "login_problem": ("No puedo entrar", "Problema con el 2FA"),
        "deposit_missing": ("Depósito no acreditado", "Transferencia no recibida"),
        "general_question": ("Consulta", "Pregunta sobre retiros"),
        "praise": ("¡Gracias!", "Muy buen servicio"),
    },
    "pt": {
        "slow_withdrawal": ("Saque pendente", "Cadê meu saque?", "Transferência atrasada"),
        "kyc_rejected": ("KYC recusado", "Problema na verificação"),
        "account_frozen": ("Conta bloqueada", "Por que minha conta foi suspensa?"),
        "trading_loss": ("Reclamação de liquidação", "Perdi dinheiro por causa da plataforma"),
        "card_declined": ("Cartão recusado", "Não consigo comprar com cartão"),
        "high_fees": ("Taxas", "Taxa de saque muito alta"),
        "app_bug": ("App com problema", "Erro {err}"),
        "login_problem": ("Não consigo entrar", "Problema com o 2FA"),
        "deposit_missing": ("Depósito não creditado", "Transferência não recebida"),
        "general_question": ("Dúvida", "Pergunta sobre saques"),
        "praise": ("Obrigado!", "Ótimo atendimento"),
    },
    "de": {
        "slow_withdrawal": ("Auszahlung ausstehend", "Wo bleibt meine Auszahlung?", "Überweisung verzögert"),
        "kyc_rejected": ("KYC abgelehnt", "Problem mit der Verifizierung"),
        "account_frozen": ("Konto gesperrt", "Warum ist mein Konto eingeschränkt?"),
        "trading_loss": ("Beschwerde wegen Liquidation", "Geld verloren wegen eurer Plattform"),
        "card_declined": ("Karte abgelehnt", "Kartenzahlung funktioniert nicht"),
        "high_fees": ("Gebühren", "Auszahlungsgebühr viel zu hoch"),
        "app_bug": ("App stürzt ab", "Fehler {err}"),
        "login_problem": ("Login geht nicht", "Problem mit 2FA"),
        "deposit_missing": ("Einzahlung nicht gutgeschrieben", "Überweisung nicht angekommen"),
        "general_question": ("Frage", "Frage zu Auszahlungen"),
        "praise": ("Danke!", "Toller Service"),
    },
    "fr": {
        "slow_withdrawal": ("Retrait en attente", "Où est mon retrait ?", "Virement retardé"),
        "kyc_rejected": ("KYC refusé", "Problème de vérification"),
        "account_frozen": ("Compte bloqué", "Pourquoi mon compte est suspendu ?"),
        "trading_loss": ("Réclamation liquidation", "J'ai perdu de l'argent à cause de la plateforme"),
        "card_declined": ("Carte refusée", "Impossible de payer par carte"),
        "high_fees": ("Frais", "Frais de retrait trop élevés"),
        "app_bug": ("L'application plante", "Erreur {err}"),
        "login_problem": ("Impossible de me connecter", "Problème de 2FA"),
        "deposit_missing": ("Dépôt non crédité", "Virement non reçu"),
        "general_question": ("Question", "Question sur les retraits"),
        "praise": ("Merci !", "Super service"),
    },
    "tr": {
        "slow_withdrawal": ("Çekim beklemede", "Çekimim nerede?", "Transfer gecikti"),
        "kyc_rejected": ("KYC reddedildi", "Doğrulama sorunu"),
        "account_frozen": ("Hesabım kilitlendi", "Hesabım neden askıya alındı?"),
        "trading_loss": ("Likidasyon şikayeti", "Platform yüzünden para kaybettim"),
        "card_declined": ("Kart reddedildi", "Kartla alım yapamıyorum"),
        "high_fees": ("Komisyonlar", "Çekim ücreti çok yüksek"),
        "app_bug": ("Uygulama çöküyor", "{err} hatası"),
        "login_problem": ("Giriş yapamıyorum", "2FA sorunu"),
        "deposit_missing": ("Yatırma hesaba geçmedi", "Havale ulaşmadı"),
        "general_question": ("Soru", "Çekimler hakkında bir soru"),
        "praise": ("Teşekkürler!", "Harika hizmet"),
    },
    "ru": {
        "slow_withdrawal": ("Вывод в обработке", "Где мой вывод?", "Задержка перевода"),
        "kyc_rejected": ("Отклонили KYC", "Проблема с верификацией"),
        "account_frozen": ("Аккаунт заблокирован", "Почему ограничен мой аккаунт?"),
        "trading_loss": ("Жалоба на ликвидацию", "Потерял деньги из-за платформы"),
        "card_declined": ("Карта отклонена", "Не могу купить картой"),
        "high_fees": ("Комиссии", "Слишком высокая комиссия за вывод"),
        "app_bug": ("Приложение вылетает", "Ошибка {err}"),
        "login_problem": ("Не могу войти", "Проблема с 2FA"),
        "deposit_missing": ("Депозит не зачислен", "Перевод не пришёл"),
        "general_question": ("Вопрос", "Вопрос по выводу"),
        "praise": ("Спасибо!", "Отличный сервис"),
    },
}

# --------------------------------------------------------------------------------------- vague tickets
VAGUE_SUBJECTS: dict[str, Pool] = {
    "en": ("Help", "Problem", "Urgent", "Account issue", "Please help", "Support request"),
    "es": ("Ayuda", "Problema", "Urgente", "Problema con mi cuenta"),
    "pt": ("Ajuda", "Problema", "Urgente", "Problema na minha conta"),
    "de": ("Hilfe", "Problem", "Dringend", "Problem mit meinem Konto"),
    "fr": ("Aide", "Problème", "Urgent", "Problème avec mon compte"),
    "tr": ("Yardım", "Sorun", "Acil", "Hesabımla ilgili sorun"),
    "ru": ("Помогите", "Проблема", "Срочно", "Проблема с аккаунтом"),
}
VAGUE_PROBLEM: dict[str, Pool] = {
    "en": ("I have a problem with my account, please help.", "Something is wrong with my account. "
           "Can someone contact me?", "Please help me, it's urgent.", "I need help with my money.",
           "Nothing works. Call me please."),
    "es": ("Tengo un problema con mi cuenta, por favor ayúdenme.", "Algo anda mal con mi cuenta. "
           "¿Alguien me puede contactar?", "Necesito ayuda con mi dinero, es urgente."),
    "pt": ("Estou com um problema na minha conta, por favor me ajudem.", "Tem alguma coisa errada com a minha "
           "conta. Alguém pode falar comigo?", "Preciso de ajuda com meu dinheiro, é urgente."),
    "de": ("Ich habe ein Problem mit meinem Konto, bitte helfen Sie mir.", "Mit meinem Konto stimmt etwas "
           "nicht. Kann sich jemand bei mir melden?", "Ich brauche dringend Hilfe mit meinem Geld."),
    "fr": ("J'ai un problème avec mon compte, aidez-moi s'il vous plaît.", "Il y a quelque chose qui ne va "
           "pas avec mon compte. Quelqu'un peut me contacter ?", "J'ai besoin d'aide pour mon argent, c'est "
           "urgent."),
    "tr": ("Hesabımla ilgili bir sorun var, lütfen yardım edin.", "Hesabımda bir terslik var. Biri benimle "
           "iletişime geçebilir mi?", "Param konusunda acil yardıma ihtiyacım var."),
    "ru": ("У меня проблема с аккаунтом, помогите, пожалуйста.", "С моим аккаунтом что-то не так. "
           "Свяжитесь со мной, пожалуйста.", "Мне срочно нужна помощь с моими деньгами."),
}
VAGUE_NEUTRAL: dict[str, Pool] = {
    "en": ("I have a question about my account.", "Can someone from support contact me please?",
           "I need some information about my account."),
    "es": ("Tengo una pregunta sobre mi cuenta.", "¿Me puede contactar alguien de soporte, por favor?"),
    "pt": ("Tenho uma dúvida sobre a minha conta.", "Alguém do suporte pode entrar em contato comigo?"),
    "de": ("Ich habe eine Frage zu meinem Konto.", "Kann sich bitte jemand vom Support bei mir melden?"),
    "fr": ("J'ai une question sur mon compte.", "Est-ce que quelqu'un du support peut me contacter ?"),
    "tr": ("Hesabımla ilgili bir sorum var.", "Destek ekibinden biri benimle iletişime geçebilir mi?"),
    "ru": ("У меня вопрос по аккаунту.", "Может ли кто-нибудь из поддержки со мной связаться?"),
}

# --------------------------------------------------------------------------------------- tone by anger tier
# tiers: 0 polite, 1 neutral, 2 angry, 3 furious; "" means no opener/closer. The first two polite closers
# are plain sign-offs (the only ones used on praise).
OPENERS: dict[str, tuple[Pool, Pool, Pool, Pool]] = {
    "en": (("Hello,", "Hi,", "Dear support team,", "Good morning,", "Hi there,", "Hello, I hope you are well.", ""),
           ("Hi,", "Hello.", "", "", "Hey,"),
           ("", "Hello.", "I'm writing AGAIN.", "This is the third time I'm contacting you."),
           ("", "HELLO??", "This is unacceptable.", "Are you even reading these messages?",
            "Third ticket and still nothing.")),
    "en_nn": (("Dear sir/madam,", "Hello sir,", "Respected team,", "Hello,"),
              ("Hello,", "Hi,", ""),
              ("", "Hello??", "Again i am writing."),
              ("", "HELLO??", "This is very bad service.")),
    "es": (("Hola,", "Buenos días,", "Estimado equipo de soporte,", "Hola, espero que estén bien.", ""),
           ("Hola.", "", ""),
           ("", "Les escribo OTRA VEZ.", "Es la tercera vez que les escribo."),
           ("", "¿¿HOLA??", "Esto es inaceptable.", "¿Alguien lee estos mensajes?")),
    "pt": (("Olá,", "Bom dia,", "Prezada equipe de suporte,", "Oi, tudo bem?", ""),
           ("Olá.", "Oi,", ""),
           ("", "Estou escrevendo DE NOVO.", "É a terceira vez que entro em contato."),
           ("", "ALÔ??", "Isso é inaceitável.", "Alguém lê essas mensagens?")),
    "de": (("Hallo,", "Guten Tag,", "Sehr geehrtes Support-Team,", "Hallo zusammen,", ""),
           ("Hallo.", "Hi,", ""),
           ("", "Ich schreibe SCHON WIEDER.", "Das ist jetzt meine dritte Anfrage."),
           ("", "HALLO??", "Das ist inakzeptabel.", "Liest hier überhaupt jemand mit?")),
    "fr": (("Bonjour,", "Bonsoir,", "Madame, Monsieur,", "Bonjour, j'espère que vous allez bien.", ""),
           ("Bonjour.", "Salut,", ""),
           ("", "Je vous écris ENCORE.", "C'est la troisième fois que je vous contacte."),
           ("", "ALLÔ ??", "C'est inadmissible.", "Est-ce que quelqu'un lit ces messages ?")),
    "tr": (("Merhaba,", "İyi günler,", "Sayın destek ekibi,", "Merhabalar, kolay gelsin.", ""),
           ("Merhaba.", "Selam,", ""),
           ("", "YİNE yazıyorum.", "Bu size üçüncü yazışım."),
           ("", "ALO??", "Bu kabul edilemez.", "Bu mesajları okuyan biri var mı?")),
    "ru": (("Здравствуйте,", "Добрый день,", "Уважаемая поддержка,", "Здравствуйте, надеюсь, у вас всё хорошо.",
            ""),
           ("Здравствуйте.", "Привет,", ""),
           ("", "Пишу ОПЯТЬ.", "Это уже третье моё обращение."),
           ("", "АЛЛО??", "Это недопустимо.", "Вы вообще читаете эти сообщения?")),
}
CLOSERS: dict[str, tuple[Pool, Pool, Pool, Pool]] = {
    "en": (("Kind regards", "Have a nice day.", "Thank you in advance.", "Thanks a lot for your help!",
            "I'd appreciate any help.", "Thanks!"),
           ("Please help.", "Thanks.", "Please check.", "Waiting for your reply.", ""),
           ("Please fix this ASAP.", "I expect an answer today.", "Very disappointed.", "This is really frustrating."),
           ("Fix it NOW.", "Answer me!", "Worst support ever.", "")),
    "en_nn": (("Thanks and regards", "Regards", "Kindly do the needful.", "Please help me, thank you."),
              ("Please help.", "Waiting your reply.", ""),
              ("Please solve fastly.", "I am very upset."),
              ("Solve it now!", "")),
    "es": (("Saludos cordiales", "Un saludo.", "Gracias de antemano.", "¡Muchas gracias por su ayuda!",
            "Quedo atento."),
           ("Por favor, ayúdenme.", "Gracias.", "Espero su respuesta.", ""),
           ("Arréglenlo cuanto antes.", "Espero una respuesta hoy.", "Estoy muy decepcionado."),
           ("¡Resuélvanlo YA!", "¡Respóndanme!", "El peor soporte del mundo.", "")),
    "pt": (("Atenciosamente", "Abraços.", "Desde já agradeço.", "Muito obrigado pela ajuda!", "Fico no aguardo."),
           ("Por favor, me ajudem.", "Obrigado.", "Aguardo retorno.", ""),
           ("Resolvam isso o quanto antes.", "Espero uma resposta hoje.", "Estou muito decepcionado."),
           ("Resolvam AGORA!", "Me respondam!", "Pior suporte que já vi.", "")),
    "de": (("Mit freundlichen Grüßen", "Viele Grüße", "Vielen Dank im Voraus.", "Danke für Ihre Hilfe!"),
           ("Bitte helfen Sie mir.", "Danke.", "Ich warte auf Ihre Antwort.", ""),
           ("Bitte schnellstens beheben.", "Ich erwarte heute noch eine Antwort.", "Ich bin sehr enttäuscht."),
           ("Regelt das SOFORT!", "Antwortet mir endlich!", "Schlechtester Support überhaupt.", "")),
    "fr": (("Cordialement", "Bonne journée.", "Merci d'avance.", "Merci beaucoup pour votre aide !"),
           ("Merci de m'aider.", "Merci.", "J'attends votre réponse.", ""),
           ("Réglez ça au plus vite.", "J'attends une réponse aujourd'hui.", "Je suis très déçu."),
           ("Réglez ça MAINTENANT !", "Répondez-moi !", "Pire support que j'ai jamais vu.", "")),
    "tr": (("Saygılarımla", "İyi çalışmalar.", "Şimdiden teşekkürler.", "Yardımınız için çok teşekkür ederim!"),
           ("Lütfen yardım edin.", "Teşekkürler.", "Dönüşünüzü bekliyorum.", ""),
           ("Lütfen bir an önce çözün.", "Bugün bir cevap bekliyorum.", "Çok hayal kırıklığına uğradım."),
           ("HEMEN çözün!", "Cevap verin artık!", "Gördüğüm en kötü destek.", "")),
    "ru": (("С уважением", "Хорошего дня.", "Заранее спасибо.", "Большое спасибо за помощь!"),
           ("Помогите, пожалуйста.", "Спасибо.", "Жду ответа.", ""),
           ("Исправьте это как можно скорее.", "Жду ответа сегодня.", "Я очень разочарован."),
           ("Решите это НЕМЕДЛЕННО!", "Ответьте мне!", "Худшая поддержка в мире.", "")),
}
THREATS: dict[str, Pool] = {
    "en": ("If this is not solved today I will close my account and tell everyone to stay away.",
           "I will report you to the regulator.", "My lawyer will be in touch.", "SCAM EXCHANGE!!!",
           "I'm done with you, moving everything to another exchange.",
           "Give me my money back or I go to the police."),
    "en_nn": ("I will complain to police and regulator.", "I am closing account and go to other exchange."),
    "es": ("Si hoy no se soluciona, cierro la cuenta y lo cuento en todas partes.",
           "Voy a denunciarlos ante el regulador.", "Mi abogado se pondrá en contacto con ustedes.",
           "Me voy a otra plataforma."),
    "pt": ("Se não resolverem hoje, vou fechar minha conta e expor vocês no Reclame Aqui.",
           "Vou denunciar vocês ao Banco Central.", "Meu advogado vai entrar em contato.",
           "Vou levar meu dinheiro para outra corretora."),
    "de": ("Wenn das heute nicht gelöst wird, kündige ich mein Konto und warne alle vor euch.",
           "Ich werde euch bei der BaFin melden.", "Mein Anwalt wird sich bei Ihnen melden.",
           "Ich wechsle zu einer anderen Börse."),
    "fr": ("Si ce n'est pas réglé aujourd'hui, je ferme mon compte et je préviens tout le monde.",
           "Je vais vous signaler à l'AMF.", "Mon avocat va vous contacter.",
           "Je pars chez un autre exchange."),
    "tr": ("Bugün çözülmezse hesabımı kapatıp herkese sizi anlatacağım.",
           "Sizi SPK'ya şikayet edeceğim.", "Avukatım sizinle iletişime geçecek.",
           "Başka bir borsaya geçiyorum."),
    "ru": ("Если сегодня не решите, закрою аккаунт и расскажу всем, чтобы держались от вас подальше.",
           "Я буду жаловаться регулятору.", "С вами свяжется мой юрист.",
           "Ухожу на другую биржу."),
}
SARCASM: dict[str, Pool] = {
    "en": ("Great, another {dur} of waiting.", "Amazing service as always.", "Thanks for nothing.",
           "Love how fast you guys are. Not.", "Wow, {dur} and still no answer, impressive."),
    "en_nn": ("Very nice service, waiting {dur}.", "Very good service, nobody is replying."),
    "es": ("Genial, otros {dur} esperando.", "Un servicio increíble, como siempre.", "Gracias por nada."),
    "pt": ("Ótimo, mais {dur} esperando.", "Atendimento nota dez, como sempre.", "Obrigado por nada."),
    "de": ("Super, wieder {dur} warten.", "Toller Service, wie immer.", "Danke für nichts."),
    "fr": ("Génial, encore {dur} d'attente.", "Service incroyable, comme d'habitude.", "Merci pour rien."),
    "tr": ("Harika, yine {dur} bekleyeceğiz.", "Muhteşem hizmet, her zamanki gibi.", "Hiçbir şey için teşekkürler."),
    "ru": ("Отлично, ещё {dur} ожидания.", "Потрясающий сервис, как всегда.", "Спасибо ни за что."),
}
SIGNATURES: dict[str, Pool] = {
    "en": ("John", "Sarah", "Mike", "A frustrated customer", "Emily"),
    "en_nn": ("Rahul", "Ahmed", "Nguyen", "Joseph"),
    "es": ("María", "Carlos", "Lucía", "Javier"),
    "pt": ("João", "Ana", "Lucas", "Fernanda"),
    "de": ("Thomas", "Anna", "Jürgen", "Katrin"),
    "fr": ("Julien", "Camille", "Nicolas", "Sophie"),
    "tr": ("Mehmet", "Ayşe", "Emre", "Zeynep"),
    "ru": ("Алексей", "Ольга", "Дмитрий", "Наталья"),
}
URGENT: dict[str, str] = {"en": "URGENT", "es": "URGENTE", "pt": "URGENTE", "de": "DRINGEND", "fr": "URGENT",
                          "tr": "ACİL", "ru": "СРОЧНО"}
# English fragments that non-English writers mix in (code-switching)
CODE_SWITCH: Pool = ("pls help asap", "this is a scam", "wtf", "please fix it", "asap!!", "not ok",
                     "worst exchange ever", "support???")

# --------------------------------------------------------------------------------------- survey comments
S_POS: dict[str, Pool] = {
    "en": ("great app, easy to use", "love it", "fast withdrawals and good support", "best exchange I've tried",
           "everything works perfectly", "low fees and lots of coins", "very good", "excellent service, thank you",
           "super easy to buy crypto", "support helped me quickly, great job"),
    "es": ("muy buena app, fácil de usar", "me encanta", "retiros rápidos y buen soporte",
           "la mejor plataforma que he probado", "todo funciona perfecto", "excelente servicio, gracias"),
    "pt": ("app muito bom, fácil de usar", "adoro", "saques rápidos e suporte bom",
           "a melhor corretora que já testei", "tudo funciona perfeitamente", "excelente atendimento, obrigado"),
    "de": ("tolle App, einfach zu bedienen", "super", "schnelle Auszahlungen und guter Support",
           "die beste Börse, die ich kenne", "alles funktioniert einwandfrei", "hervorragender Service, danke"),
    "fr": ("super appli, facile à utiliser", "j'adore", "retraits rapides et bon support",
           "le meilleur exchange que j'ai testé", "tout marche parfaitement", "excellent service, merci"),
    "tr": ("harika uygulama, kullanımı kolay", "çok beğendim", "çekimler hızlı, destek iyi",
           "denediğim en iyi borsa", "her şey mükemmel çalışıyor", "mükemmel hizmet, teşekkürler"),
    "ru": ("отличное приложение, удобно пользоваться", "очень нравится", "быстрый вывод и хорошая поддержка",
           "лучшая биржа из тех, что я пробовал", "всё работает отлично", "прекрасный сервис, спасибо"),
}
S_POS_SHORT: dict[str, Pool] = {
    "en": ("good app", "the app is nice", "works fine overall", "easy to use", "good selection of coins"),
    "es": ("la app está bien", "es fácil de usar", "en general funciona bien"),
    "pt": ("o app é bom", "é fácil de usar", "no geral funciona bem"),
    "de": ("die App ist gut", "einfach zu bedienen", "im Großen und Ganzen okay"),
    "fr": ("l'appli est bien", "c'est facile à utiliser", "dans l'ensemble ça marche"),
    "tr": ("uygulama güzel", "kullanımı kolay", "genel olarak iyi çalışıyor"),
    "ru": ("приложение хорошее", "пользоваться удобно", "в целом всё работает"),
}
S_NEUTRAL: dict[str, Pool] = {
    "en": ("ok", "it's fine", "does the job", "nothing special", "average"),
    "es": ("normal", "está bien", "cumple"),
    "pt": ("ok", "é razoável", "nada de especial"),
    "de": ("ok", "geht so", "nichts Besonderes"),
    "fr": ("correct", "ça va", "rien de spécial"),
    "tr": ("idare eder", "fena değil", "normal"),
    "ru": ("нормально", "сойдёт", "ничего особенного"),
}
S_NEG_GENERAL: dict[str, Pool] = {
    "en": ("fees are way too high", "the app is slow and buggy", "too few coins listed", "everything takes forever",
           "support never answers", "withdrawals are slow", "the interface is confusing", "spreads are terrible"),
    "es": ("las comisiones son muy altas", "la app es lenta y falla mucho", "hay muy pocas monedas",
           "todo tarda muchísimo", "el soporte nunca responde"),
    "pt": ("as taxas são muito altas", "o app é lento e cheio de bugs", "tem poucas moedas listadas",
           "tudo demora demais", "o suporte nunca responde"),
    "de": ("die Gebühren sind viel zu hoch", "die App ist langsam und verbuggt", "zu wenige Coins gelistet",
           "alles dauert ewig", "der Support antwortet nie"),
    "fr": ("les frais sont beaucoup trop élevés", "l'appli est lente et pleine de bugs",
           "trop peu de cryptos disponibles", "tout prend une éternité", "le support ne répond jamais"),
    "tr": ("komisyonlar çok yüksek", "uygulama yavaş ve hatalı", "listelenen coin sayısı çok az",
           "her şey çok uzun sürüyor", "destek hiç cevap vermiyor"),
    "ru": ("комиссии слишком высокие", "приложение тормозит и глючит", "мало монет в листинге",
           "всё делается слишком долго", "поддержка никогда не отвечает"),
}
S_NEG_TOPIC: dict[str, dict[str, Pool]] = {
    "en": {
        "slow_withdrawal": ("withdrawals take forever", "my withdrawal was stuck for {dur}",
                            "waited {dur} for a simple withdrawal"),
        "kyc_rejected": ("KYC rejected me for no reason", "verification is a nightmare",
                         "they keep rejecting my documents"),
        "account_frozen": ("they froze my account without explanation", "account blocked for no reason"),
        "trading_loss": ("the platform froze during the crash and I got liquidated", "lost money because of lag"),
        "card_declined": ("my card never works", "card payments always declined"),
        "high_fees": ("fees are a rip-off", "hidden fees everywhere"),
        "app_bug": ("the app keeps crashing", "so many bugs"),
        "login_problem": ("can't even log in half the time", "2FA never works"),
        "deposit_missing": ("my deposit took {dur} to show up", "deposit disappeared and nobody cares"),
        "general_question": ("support never answers simple questions", "no clear information anywhere"),
    },
    "es": {
        "slow_withdrawal": ("los retiros tardan una eternidad", "mi retiro estuvo trabado {dur}"),
        "kyc_rejected": ("me rechazan el KYC sin motivo", "la verificación es una pesadilla"),
        "account_frozen": ("me bloquearon la cuenta sin explicación", "cuenta congelada sin motivo"),
        "trading_loss": ("la plataforma se colgó y me liquidaron", "perdí plata por culpa de la app"),
        "card_declined": ("mi tarjeta nunca funciona", "siempre rechazan el pago con tarjeta"),
        "high_fees": ("las comisiones son un robo", "comisiones ocultas por todos lados"),
        "app_bug": ("la app se cierra todo el tiempo", "demasiados errores"),
        "login_problem": ("no puedo ni iniciar sesión", "el 2FA nunca funciona"),
        "deposit_missing": ("mi depósito tardó {dur} en aparecer", "mi depósito desapareció"),
        "general_question": ("el soporte no responde preguntas simples", "no hay información clara"),
    },
    "pt": {
        "slow_withdrawal": ("os saques demoram uma eternidade", "meu saque ficou travado {dur}"),
        "kyc_rejected": ("recusaram meu KYC sem motivo", "a verificação é um pesadelo"),
        "account_frozen": ("bloquearam minha conta sem explicação", "conta congelada sem motivo"),
        "trading_loss": ("a plataforma travou e fui liquidado", "perdi dinheiro por causa do app"),
        "card_declined": ("meu cartão nunca funciona", "sempre recusam o pagamento com cartão"),
        "high_fees": ("as taxas são um roubo", "taxas escondidas pra todo lado"),
        "app_bug": ("o app fecha toda hora", "muitos bugs"),
        "login_problem": ("não consigo nem fazer login", "o 2FA nunca funciona"),
        "deposit_missing": ("meu depósito levou {dur} para cair", "meu depósito sumiu"),
        "general_question": ("o suporte não responde perguntas simples", "falta informação clara"),
    },
    "de": {
        "slow_withdrawal": ("Auszahlungen dauern ewig", "meine Auszahlung hing {dur} fest"),
        "kyc_rejected": ("mein KYC wurde ohne Grund abgelehnt", "die Verifizierung ist ein Albtraum"),
        "account_frozen": ("mein Konto wurde ohne Erklärung gesperrt", "Konto grundlos eingefroren"),
        "trading_loss": ("die Plattform ist beim Crash eingefroren und ich wurde liquidiert",
                         "wegen der App Geld verloren"),
        "card_declined": ("meine Karte funktioniert nie", "Kartenzahlungen werden immer abgelehnt"),
        "high_fees": ("die Gebühren sind Abzocke", "überall versteckte Gebühren"),
        "app_bug": ("die App stürzt ständig ab", "viel zu viele Bugs"),
        "login_problem": ("ich komme oft nicht mal rein", "2FA funktioniert nie"),
        "deposit_missing": ("meine Einzahlung hat {dur} gebraucht", "meine Einzahlung ist verschwunden"),
        "general_question": ("der Support beantwortet nicht mal einfache Fragen", "nirgends klare Infos"),
    },
    "fr": {
        "slow_withdrawal": ("les retraits prennent une éternité", "mon retrait est resté bloqué {dur}"),
        "kyc_rejected": ("mon KYC a été refusé sans raison", "la vérification est un cauchemar"),
        "account_frozen": ("ils ont bloqué mon compte sans explication", "compte gelé sans raison"),
        "trading_loss": ("la plateforme a planté et j'ai été liquidé", "j'ai perdu de l'argent à cause de l'appli"),
        "card_declined": ("ma carte ne marche jamais", "les paiements par carte sont toujours refusés"),
        "high_fees": ("les frais sont du vol", "des frais cachés partout"),
        "app_bug": ("l'appli plante tout le temps", "beaucoup trop de bugs"),
        "login_problem": ("je n'arrive même pas à me connecter", "le 2FA ne marche jamais"),
        "deposit_missing": ("mon dépôt a mis {dur} à arriver", "mon dépôt a disparu"),
        "general_question": ("le support ne répond pas aux questions simples", "aucune info claire"),
    },
    "tr": {
        "slow_withdrawal": ("çekimler çok uzun sürüyor", "çekimim {dur} takılı kaldı"),
        "kyc_rejected": ("KYC başvurum sebepsiz yere reddedildi", "doğrulama tam bir kabus"),
        "account_frozen": ("hesabımı açıklama yapmadan kilitlediler", "hesabım sebepsiz yere donduruldu"),
        "trading_loss": ("düşüşte platform dondu ve likide oldum", "uygulama yüzünden para kaybettim"),
        "card_declined": ("kartım hiç çalışmıyor", "kartla ödeme hep reddediliyor"),
        "high_fees": ("komisyonlar resmen soygun", "her yerde gizli ücretler"),
        "app_bug": ("uygulama sürekli çöküyor", "çok fazla hata var"),
        "login_problem": ("çoğu zaman giriş bile yapamıyorum", "2FA hiç çalışmıyor"),
        "deposit_missing": ("yatırdığım para {dur} sonra geldi", "yatırdığım para kayboldu"),
        "general_question": ("destek basit sorulara bile cevap vermiyor", "hiçbir yerde net bilgi yok"),
    },
    "ru": {
        "slow_withdrawal": ("вывод идёт целую вечность", "мой вывод висел {dur}"),
        "kyc_rejected": ("мне без причины отклонили KYC", "верификация — это кошмар"),
        "account_frozen": ("мой аккаунт заблокировали без объяснений", "аккаунт заморозили без причины"),
        "trading_loss": ("платформа зависла во время обвала, и меня ликвидировали", "потерял деньги из-за лагов"),
        "card_declined": ("моя карта никогда не проходит", "оплату картой постоянно отклоняют"),
        "high_fees": ("комиссии — просто грабёж", "везде скрытые комиссии"),
        "app_bug": ("приложение постоянно вылетает", "слишком много багов"),
        "login_problem": ("я даже войти не могу", "2FA никогда не работает"),
        "deposit_missing": ("мой депозит шёл {dur}", "мой депозит пропал"),
        "general_question": ("поддержка не отвечает даже на простые вопросы", "нигде нет понятной информации"),
    },
}
S_BUT: dict[str, str] = {"en": ", but ", "es": ", pero ", "pt": ", mas ", "de": ", aber ", "fr": ", mais ",
                         "tr": " ama ", "ru": ", но "}
S_ANGRY_OPEN: dict[str, Pool] = {
    "en": ("terrible", "worst exchange ever", "avoid", "very disappointed"),
    "es": ("pésimo", "la peor plataforma", "muy decepcionado"),
    "pt": ("péssimo", "a pior corretora", "muito decepcionado"),
    "de": ("furchtbar", "die schlechteste Börse überhaupt", "sehr enttäuscht"),
    "fr": ("nul", "le pire exchange", "très déçu"),
    "tr": ("berbat", "en kötü borsa", "çok hayal kırıklığına uğradım"),
    "ru": ("ужасно", "худшая биржа", "очень разочарован"),
}
S_LEAVING: dict[str, Pool] = {
    "en": ("I'm moving to another exchange", "closing my account", "never again", "stay away"),
    "es": ("me voy a otra plataforma", "voy a cerrar mi cuenta", "nunca más"),
    "pt": ("vou para outra corretora", "vou fechar minha conta", "nunca mais"),
    "de": ("ich wechsle zu einer anderen Börse", "ich kündige mein Konto", "nie wieder"),
    "fr": ("je pars ailleurs", "je ferme mon compte", "plus jamais"),
    "tr": ("başka borsaya geçiyorum", "hesabımı kapatacağım", "bir daha asla"),
    "ru": ("ухожу на другую биржу", "закрываю аккаунт", "больше никогда"),
}
S_SARCASM: dict[str, Pool] = {
    "en": ("great, another {dur} of waiting", "wonderful service, really", "amazing how nothing ever works"),
    "es": ("genial, otros {dur} esperando", "un servicio maravilloso, de verdad"),
    "pt": ("ótimo, mais {dur} esperando", "atendimento maravilhoso, sério"),
    "de": ("super, wieder {dur} warten", "ganz toller Service, wirklich"),
    "fr": ("génial, encore {dur} d'attente", "service formidable, vraiment"),
    "tr": ("harika, yine {dur} bekleyeceğiz", "muhteşem hizmet, gerçekten"),
    "ru": ("отлично, ещё {dur} ожидания", "чудесный сервис, правда"),
}
